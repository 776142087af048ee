/**
 * Serves the built site (site/dist) on localhost: `deno task site:serve` at the repository root.
 * A folder serves its index.html; an unknown path gets the site's 404 page with status 404.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 --allow-read=dist serve.ts [--port=4321] [--host=127.0.0.1]
 * ```
 * @module
 */

const types: Record<string, string> = {
  html: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  json: "application/json",
  svg: "image/svg+xml",
  png: "image/png",
  ico: "image/x-icon",
  woff: "font/woff",
  woff2: "font/woff2",
  ttf: "font/ttf",
  wasm: "application/wasm",
  txt: "text/plain; charset=utf-8",
  xml: "application/xml",
};

/** The file under `root` that answers `pathname`, or null. */
async function resolve(root: string, pathname: string): Promise<string | null> {
  let path: string;
  try {
    path = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (path.includes("\0") || path.split("/").includes("..")) return null;
  for (const candidate of [path, `${path.replace(/\/$/, "")}/index.html`]) {
    try {
      const info = await Deno.stat(root + candidate);
      if (info.isFile) return root + candidate;
    } catch {
      // try the next candidate
    }
  }
  return null;
}

/** Starts the server; returns it and its URL. Used by the browser test too. */
export function serveSite(
  root: string,
  { hostname = "127.0.0.1", port = 4321, quiet = false } = {},
): { server: Deno.HttpServer<Deno.NetAddr>; url: Promise<string> } {
  let ready: (url: string) => void;
  const url = new Promise<string>((r) => (ready = r));
  const server = Deno.serve({
    hostname,
    port,
    onListen: ({ hostname, port }) => {
      const u = `http://${hostname === "0.0.0.0" ? "localhost" : hostname}:${port}/`;
      if (!quiet) {
        console.log(`LLM Dojo site: ${u}  (from ${root}; Ctrl-C stops)`);
      }
      ready(u);
    },
  }, async (req) => {
    const { pathname } = new URL(req.url);
    // A folder without its trailing slash: redirect, as static hosts do.
    if (!pathname.endsWith("/") && !/\.[a-z0-9]+$/i.test(pathname)) {
      const file = await resolve(root, `${pathname}/`);
      if (file) return Response.redirect(new URL(`${pathname}/`, req.url), 301);
    }
    const file = await resolve(root, pathname);
    const status = file ? 200 : 404;
    const path = file ?? `${root}/404.html`;
    const ext = path.slice(path.lastIndexOf(".") + 1);
    try {
      const body = await Deno.readFile(path);
      return new Response(req.method === "HEAD" ? null : body, {
        status,
        headers: { "content-type": types[ext] ?? "application/octet-stream" },
      });
    } catch {
      return new Response("Not found", { status: 404 });
    }
  });
  return { server, url };
}

if (import.meta.main) {
  const arg = (name: string) =>
    Deno.args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const root = new URL("./dist", import.meta.url).pathname;
  try {
    await Deno.stat(`${root}/index.html`);
  } catch {
    console.error(
      "site/dist has no index.html: build the site first with `deno task site`.",
    );
    Deno.exit(1);
  }
  serveSite(root, {
    hostname: arg("host") ?? "127.0.0.1",
    port: Number(arg("port") ?? 4321),
  });
}
