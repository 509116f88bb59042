// Runs a Python program under Pyodide in Node, with inferwire loaded from this checkout.
//
//   node tests/pyodide/run.mjs PYODIDE_DIR PROGRAM.py [NAME=VALUE...]
//
// PYODIDE_DIR is the npm package's folder (node_modules/pyodide): nothing is fetched from the
// internet. inferwire's source files are written into Pyodide's in-memory filesystem with the
// package layout of pyproject.toml (transports/ is `inferwire`, sansio/ is
// `inferwire.sansio`). NAME=VALUE pairs become os.environ. The program defines `async def
// main()`, which is awaited; the exit status is 0 when it returns, 1 when it raises (the
// traceback on stderr).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const [pyodideDir, program, ...pairs] = process.argv.slice(2);
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const env = Object.fromEntries(pairs.map((pair) => {
  const at = pair.indexOf("=");
  return [pair.slice(0, at), pair.slice(at + 1)];
}));

const { loadPyodide } = await import(join(resolve(pyodideDir), "pyodide.mjs"));
const pyodide = await loadPyodide({ indexURL: resolve(pyodideDir) + "/", env });

function copyTree(from, to) {
  pyodide.FS.mkdirTree(to);
  for (const name of readdirSync(from)) {
    const path = join(from, name);
    if (name === "__pycache__") continue;
    if (statSync(path).isDirectory()) copyTree(path, `${to}/${name}`);
    else if (name.endsWith(".py") || name.endsWith(".typed"))
      pyodide.FS.writeFile(`${to}/${name}`, readFileSync(path));
  }
}
copyTree(join(root, "transports"), "/inferwire-src/inferwire");
copyTree(join(root, "sansio"), "/inferwire-src/inferwire/sansio");

try {
  await pyodide.runPythonAsync(
    "import sys; sys.path.insert(0, '/inferwire-src')\n" + readFileSync(program, "utf8")
    + "\nawait main()\n", { filename: program });
} catch (error) {
  console.error(error.type === "SystemExit" ? "the program failed" : String(error.message ?? error));
  process.exit(1);
}
process.exit(0);
