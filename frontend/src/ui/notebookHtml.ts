/** nbconvert's page without its scripts and CDN stylesheets: they cannot run or load here anyway. */
export function staticHtml(html: string): string {
  const doc = new DOMParser().parseFromString(html, "text/html");
  doc.querySelectorAll("script, link[href^='http'], link[href^='//']").forEach((el) => el.remove());
  return `<!doctype html>${doc.documentElement.outerHTML}`;
}
