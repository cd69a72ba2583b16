"""Gestures on the editor that several browser tests share."""


def canvas_box(page) -> dict:
    return page.locator("[data-testid=canvas]").bounding_box()


def drop_notebook(page, name: str, x: float, y: float):
    """Drag a notebook from the palette and drop it at (x, y) inside the canvas."""
    page.drag_and_drop(f"[data-testid='palette-{name}']", "[data-testid=canvas] .react-flow__pane", target_position={"x": x, "y": y})


def handle_centre(page, selector: str) -> tuple[float, float]:
    box = page.locator(selector).bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def connect(page, source: str, output: str, target: str, param: str):
    """Draw a wire from an output handle to a parameter handle with the mouse."""
    sx, sy = handle_centre(page, f"[data-testid=node-{source}] [data-output={output}] .react-flow__handle")
    tx, ty = handle_centre(page, f"[data-testid=node-{target}] [data-param={param}] .react-flow__handle")
    page.mouse.move(sx, sy)
    page.mouse.down()
    page.mouse.move((sx + tx) / 2, (sy + ty) / 2, steps=5)
    page.mouse.move(tx, ty, steps=5)
    page.mouse.up()


def select_node(page, node: str):
    page.locator(f"[data-testid=node-{node}] .loom-node-header").click()
    page.wait_for_selector(f"[data-testid=inspector] input[aria-label='Node id'][value='{node}']")


def add_output(page, node: str, name: str, type_: str):
    select_node(page, node)
    inspector = page.locator("[data-testid=inspector]")
    inspector.get_by_label("New output name").fill(name)
    inspector.get_by_label("New output name").press("Enter")
    inspector.get_by_label(f"Type of {name}").select_option(type_)
    page.wait_for_selector(f"[data-testid=node-{node}] [data-output={name}]")


def save(page):
    page.keyboard.press("Control+s")
    page.wait_for_selector("[data-testid=saved]")
