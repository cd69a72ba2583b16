"""The embedded broker with several processes: each message reaches exactly one consumer."""
import multiprocessing
import os
import time

from kombu import Connection, Exchange, Queue
from kombu.transport import TRANSPORT_ALIASES

TRANSPORT_ALIASES.setdefault("loomfs", "runs.broker:Transport")


def _options(root):
    return {"data_folder": str(root), "control_folder": str(root / "control"), "polling_interval": 0.01}


def _consume(root, out, count):
    import sys

    sys.path.insert(0, "backend")
    got = []
    with Connection("loomfs://", transport_options=_options(root)) as conn:
        queue = conn.SimpleQueue(Queue("q", Exchange("q"), "q"))
        queue.consumer.qos(prefetch_count=1)
        while True:
            try:
                message = queue.get(timeout=1.5)
            except queue.Empty:
                break
            got.append(message.payload)
            message.ack()
            time.sleep(0.002)  # work a little, as a worker would
    out.put((os.getpid(), got))


def test_messages_are_delivered_once_across_processes(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    with Connection("loomfs://", transport_options=_options(tmp_path)) as conn:
        queue = conn.SimpleQueue(Queue("q", Exchange("q"), "q"))
        for i in range(300):
            queue.put({"n": i})
    consumers = [ctx.Process(target=_consume, args=(tmp_path, out, 0)) for _ in range(3)]
    for c in consumers:
        c.start()
    results = [out.get(timeout=60) for _ in consumers]
    for c in consumers:
        c.join(10)
    received = [m["n"] for _, got in results for m in got]
    assert sorted(received) == list(range(300))  # none lost, none twice
    assert sum(1 for _, got in results if got) >= 2  # really shared between processes
