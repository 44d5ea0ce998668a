#!/usr/bin/env python3
"""Runs the shell blocks of README.md, docs/*.md and examples/*/README.md that are marked runnable
(issue 24: every command a user reads must work on a fresh clone after `./setup.sh test`'s build).

A block is runnable when the line right before its opening fence is the comment

    <!-- runnable -->

(or a comment `<!-- runnable` whose next lines, up to a line `-->`, are setup commands that run
first, unseen by the reader: what an earlier page would have made) and its fence is ```sh (or
```bash). A block preceded by `<!-- same as PATH -->` (PATH from the repository's top) must hold the same JSON
document as the file PATH (its whole-line // comments left out): a config shown in a page stays the
config the repository ships. The blocks of one file run in their order, in one scratch
directory that holds a copy of what the repository ships (examples/, tests/data/) and `build`, a
link to the build directory — so the commands run as written (`build/tools/agnostic ...`,
`examples/higgs/config.json`) without writing into the source tree; `agnostic` alone is the
build's command (build/tools is first on PATH, as after `cmake --install`). Each block runs with
`bash -euo pipefail` and must exit 0 within --timeout seconds; a failure prints the file, the line
of the block, the command output and the block.

    /usr/bin/python3 tests/docs_runnable.py --source . --build build [--list] [FILE.md ...]

ctest runs it as "docs: runnable blocks" (examples/CMakeLists.txt, label `example`).
"""
import argparse
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

MARK_OPEN = "<!-- runnable"
MARK = MARK_OPEN + " -->"
SAME_AS = "<!-- same as "
SHIPPED = ("examples", "tests/data")


def runnable_blocks(path):
    """(line number of the fence, setup text, block text) for every marked block of the Markdown file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks, i, setup = [], 0, None
    while i < len(lines):
        stripped = lines[i].strip()
        if stripped.startswith(MARK_OPEN):
            # <!-- runnable --> or <!-- runnable, then setup lines, then -->
            if stripped.endswith("-->"):
                if stripped != MARK:
                    raise SystemExit(f"{path}:{i + 1}: write '{MARK}', or '{MARK_OPEN}' and the setup commands on the lines below it, then '-->'")
                setup, i = "", i + 1
            else:
                end = i + 1
                while end < len(lines) and lines[end].strip() != "-->":
                    end += 1
                if end == len(lines) or stripped != MARK_OPEN:
                    raise SystemExit(f"{path}:{i + 1}: a '{MARK_OPEN}' comment must end with a line '-->'")
                setup, i = "\n".join(lines[i + 1:end]) + "\n", end + 1
            if i == len(lines) or not lines[i].strip().startswith("```"):
                raise SystemExit(f"{path}:{i}: the runnable mark must be right before a code block's fence")
            continue
        if stripped.startswith("```"):
            language = stripped[3:].strip()
            end = i + 1
            while end < len(lines) and lines[end].strip() != "```":
                end += 1
            if end == len(lines):
                raise SystemExit(f"{path}:{i + 1}: a code block that never closes")
            if setup is not None:
                if language not in ("sh", "bash"):
                    raise SystemExit(f"{path}:{i + 1}: a runnable block must be ```sh or ```bash, not ```{language}")
                blocks.append((i + 1, setup, "\n".join(lines[i + 1:end]) + "\n"))
            setup, i = None, end + 1
            continue
        i += 1
    return blocks


def copies_checked(path, source):
    """Errors of the blocks marked <!-- same as PATH --> of the Markdown file whose JSON differs from PATH."""
    lines = path.read_text(encoding="utf-8").splitlines()
    errors, name = [], path.relative_to(source)
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not (stripped.startswith(SAME_AS) and stripped.endswith("-->")):
            continue
        shipped = source / stripped[len(SAME_AS):-3].strip()
        if i + 1 == len(lines) or not lines[i + 1].strip().startswith("```"):
            errors.append(f"{name}:{i + 1}: '{SAME_AS}' must be right before a code block's fence")
            continue
        end = i + 2
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        try:
            shown = json.loads("\n".join(lines[i + 2:end]))
            with open(shipped, encoding="utf-8") as f:
                expected = json.loads("".join(l for l in f if not l.lstrip().startswith("//")))
        except (OSError, ValueError) as error:
            errors.append(f"{name}:{i + 2}: {error}")
            continue
        if shown != expected:
            errors.append(f"{name}:{i + 2}: the block is not the JSON of {shipped.relative_to(source)}: update one of them")
    return errors


def scratch_for(source, build, scratch_root, name):
    scratch = scratch_root / name
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    for shipped in SHIPPED:
        shutil.copytree(source / shipped, scratch / shipped,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (scratch / "build").symlink_to(build)
    return scratch


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default=".", help="the repository (default .)")
    parser.add_argument("--build", default="build", help="the build directory (default build)")
    parser.add_argument("--scratch", help="where the scratch copies go (default BUILD/docs-runnable)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per block (default 300)")
    parser.add_argument("--list", action="store_true", help="only list the runnable blocks")
    parser.add_argument("files", nargs="*", help="Markdown files (default: README.md, docs/*.md, examples/*/README.md)")
    args = parser.parse_args()
    source = pathlib.Path(args.source).resolve()
    build = pathlib.Path(args.build).resolve()
    files = [pathlib.Path(f).resolve() for f in args.files] or (
        [source / "README.md"] + sorted((source / "docs").glob("*.md")) + sorted((source / "examples").glob("*/README.md")))
    copy_errors = [error for f in files for error in copies_checked(f, source)]
    for error in copy_errors:
        print(f"FAIL  {error}")
    marked = [(f, runnable_blocks(f)) for f in files]
    marked = [(f, blocks) for f, blocks in marked if blocks]
    if args.list:
        for f, blocks in marked:
            for line, _, _ in blocks:
                print(f"{f.relative_to(source)}:{line}")
        return 0
    if not marked:
        print("no runnable blocks found", file=sys.stderr)
        return 1
    if not (build / "tools" / "agnostic").is_file():
        print(f"{build}/tools/agnostic is missing: build the agnostic_cli target first", file=sys.stderr)
        return 1
    scratch_root = pathlib.Path(args.scratch).resolve() if args.scratch else build / "docs-runnable"
    environment = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"),
                       PATH=f"{build / 'tools'}{os.pathsep}{os.environ.get('PATH', '')}")
    failures, count = 0, 0
    for f, blocks in marked:
        name = str(f.relative_to(source)).replace("/", "_").removesuffix(".md")
        scratch = scratch_for(source, build, scratch_root, name)
        failed_here = False
        for line, setup, block in blocks:
            count += 1
            where = f"{f.relative_to(source)}:{line}"
            if failed_here:  # it would run on what the failed block did not make
                failures += 1
                print(f"SKIP  {where} (an earlier block of the file failed)")
                continue
            start = time.monotonic()
            # its own session, so that a timeout ends the block's whole process group, not bash alone
            process = subprocess.Popen(["bash", "-euo", "pipefail", "-c", setup + block], cwd=scratch, env=environment,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                       start_new_session=True)
            try:
                output, _ = process.communicate(timeout=args.timeout)
                code = process.returncode
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                output, _ = process.communicate()
                code = "timeout"
            seconds = time.monotonic() - start
            if code == 0:
                print(f"ok    {where} ({seconds:.1f} s)")
                continue
            failures += 1
            failed_here = True
            print(f"FAIL  {where} (exit {code}, {seconds:.1f} s; run in {scratch})")
            print("  block:\n" + "".join(f"    {l}\n" for l in block.splitlines()))
            print("  output (last 40 lines):\n" + "".join(f"    {l}\n" for l in output.splitlines()[-40:]))
    print(f"{count - failures} of {count} runnable blocks passed" + (f"; {len(copy_errors)} copied block(s) differ" if copy_errors else ""))
    return 1 if failures or copy_errors else 0


if __name__ == "__main__":
    sys.exit(main())
