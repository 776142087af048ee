/**
 * The few file operations the runner's state and logs need, behind an interface so that their
 * tests run in memory, without permissions; and an atomic write on top of them.
 * @module
 */

/** File operations on paths. Errors are thrown as Deno's errors (`Deno.errors.NotFound`, ...). */
export interface Fs {
  readTextFile(path: string): Promise<string>;
  /** Writes the whole file and flushes it to the disk. */
  writeTextFile(path: string, data: string): Promise<void>;
  appendTextFile(path: string, data: string): Promise<void>;
  /** Replaces `to` with `from` in one step (POSIX rename). */
  rename(from: string, to: string): Promise<void>;
  /** Creates a folder and its parents; no error when it exists. */
  mkdir(path: string): Promise<void>;
  remove(path: string): Promise<void>;
  /** The names in a folder; empty when it does not exist. */
  list(path: string): Promise<string[]>;
}

/** The real file system. */
export const denoFs: Fs = {
  readTextFile: (path) => Deno.readTextFile(path),
  async writeTextFile(path, data) {
    const file = await Deno.open(path, { write: true, create: true, truncate: true });
    try {
      const bytes = new TextEncoder().encode(data);
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      await file.sync();
    } finally {
      file.close();
    }
  },
  appendTextFile: (path, data) => Deno.writeTextFile(path, data, { append: true }),
  rename: (from, to) => Deno.rename(from, to),
  mkdir: (path) => Deno.mkdir(path, { recursive: true }),
  remove: (path) => Deno.remove(path),
  async list(path) {
    try {
      return (await Array.fromAsync(Deno.readDir(path))).map((e) => e.name);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return [];
      throw error;
    }
  },
};

function parent(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

/**
 * Writes `data` to `path` so that a reader sees the old file or the new one, never half of one:
 * write a temporary file beside it, then rename it over the old one.
 */
export async function writeAtomic(fs: Fs, path: string, data: string): Promise<void> {
  await fs.mkdir(parent(path));
  const tmp = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await fs.writeTextFile(tmp, data);
    await fs.rename(tmp, path);
  } catch (error) {
    await fs.remove(tmp).catch(() => {});
    throw error;
  }
}

/** An in-memory {@linkcode Fs} for tests. `failOn` makes chosen operations throw. */
export class MemoryFs implements Fs {
  files = new Map<string, string>();
  dirs = new Set<string>(["/"]);
  /** Operations that throw, e.g. `{ writeTextFile: (p) => p.endsWith(".tmp") }`. */
  failOn: Partial<Record<keyof Fs, (path: string) => boolean>> = {};

  constructor(files: Record<string, string> = {}) {
    for (const [path, data] of Object.entries(files)) {
      this.files.set(path, data);
      this.#mkdirs(parent(path));
    }
  }

  #check(op: keyof Fs, path: string): void {
    if (this.failOn[op]?.(path)) throw new Deno.errors.PermissionDenied(`${op} ${path}: denied`);
  }

  #mkdirs(path: string): void {
    for (let p = path; p !== "/" && !this.dirs.has(p); p = parent(p)) this.dirs.add(p);
  }

  #needDir(path: string): void {
    if (!this.dirs.has(parent(path))) {
      throw new Deno.errors.NotFound(`No such file or directory: ${parent(path)}`);
    }
  }

  readTextFile(path: string): Promise<string> {
    this.#check("readTextFile", path);
    const data = this.files.get(path);
    if (data === undefined) {
      return Promise.reject(new Deno.errors.NotFound(`No such file: ${path}`));
    }
    return Promise.resolve(data);
  }

  writeTextFile(path: string, data: string): Promise<void> {
    this.#check("writeTextFile", path);
    this.#needDir(path);
    this.files.set(path, data);
    return Promise.resolve();
  }

  appendTextFile(path: string, data: string): Promise<void> {
    this.#check("appendTextFile", path);
    this.#needDir(path);
    this.files.set(path, (this.files.get(path) ?? "") + data);
    return Promise.resolve();
  }

  rename(from: string, to: string): Promise<void> {
    this.#check("rename", from);
    const data = this.files.get(from);
    if (data === undefined) return Promise.reject(new Deno.errors.NotFound(from));
    this.#needDir(to);
    this.files.delete(from);
    this.files.set(to, data);
    return Promise.resolve();
  }

  mkdir(path: string): Promise<void> {
    this.#check("mkdir", path);
    this.#mkdirs(path);
    return Promise.resolve();
  }

  remove(path: string): Promise<void> {
    this.#check("remove", path);
    if (!this.files.delete(path)) return Promise.reject(new Deno.errors.NotFound(path));
    return Promise.resolve();
  }

  list(path: string): Promise<string[]> {
    this.#check("list", path);
    const prefix = path.endsWith("/") ? path : `${path}/`;
    return Promise.resolve(
      [...this.files.keys()]
        .filter((p) => p.startsWith(prefix) && !p.slice(prefix.length).includes("/"))
        .map((p) => p.slice(prefix.length)),
    );
  }
}
