"""omnipython --scan: radon 5.1's numbers (checked against radon itself on a
slice of the standard library), discovery, and errors per file."""
import collections
import json
import os
import stat
import subprocess
import tokenize

import pytest

from conftest import (CHROMIUM, OMNI, PYTHON, STDLIB, need_scan, render, report_json, run,
                      scan_unavailable)

radon = pytest.importorskip("radon", reason="Debian's radon package is not installed")
from radon.complexity import cc_visit  # noqa: E402
from radon.metrics import h_visit, mi_visit  # noqa: E402
from radon.raw import analyze  # noqa: E402

# a slice of the standard library: big and small files, classes, closures,
# comprehensions, decorators, async code, match statements, odd formatting
SLICE = ["argparse.py", "textwrap.py", "fractions.py", "json/decoder.py", "json/encoder.py",
         "asyncio/base_events.py", "asyncio/tasks.py", "email/_header_value_parser.py",
         "inspect.py", "typing.py", "dataclasses.py", "ast.py", "tokenize.py", "re/_parser.py",
         "pydoc.py", "difflib.py", "statistics.py", "zipfile.py", "tarfile.py",
         "logging/__init__.py", "unittest/mock.py", "http/client.py", "enum.py",
         "collections/__init__.py", "functools.py", "pickletools.py", "sre_compile.py",
         "lib2to3/fixer_util.py", "idlelib/editor.py", "turtle.py"]


@pytest.fixture(autouse=True)
def scan_available(request):
    if request.node.name != "test_a_build_without_the_parser_says_why":
        need_scan()


def test_a_build_without_the_parser_says_why(tmp_path):
    """A build on a shared libpython that keeps the parser internal (Debian
    unstable's 3.14 without its source package) says so, exit status 6."""
    if not scan_unavailable():
        pytest.skip("this build has --scan")
    (tmp_path / "a.py").write_text("x = 1\n")
    r = run([OMNI, "--scan", str(tmp_path)])
    assert r.returncode == 6 and not r.stdout
    assert b"--scan is unavailable in this build" in r.stderr and b"parser" in r.stderr


# the rules of the radon installed (Debian 12's 5.1, Debian 13's 6.0.1)
RADON = radon.__version__.split(".")[0]


def scan(root, *extra, fmt="json"):
    r = run([OMNI, "--scan", str(root), "--radon", RADON, "--format", fmt, *extra], timeout=300)
    return r, (json.loads(r.stdout) if fmt == "json" and r.stdout else None)


def radon_of(path):
    with tokenize.open(path) as f:
        code = f.read()
    h = h_visit(code)
    blocks = [("class" if b.letter == "C" else "method" if b.is_method else "function",
               b.name, None if b.letter == "C" else b.classname, b.lineno, b.endline, b.complexity)
              for b in cc_visit(code)]
    return {"raw": analyze(code)._asdict(), "blocks": collections.Counter(blocks),
            "hal": (h.total.h1, h.total.h2, h.total.N1, h.total.N2, h.total.volume),
            "hal_fns": collections.Counter((n, r.h1, r.h2, r.N1, r.N2) for n, r in h.functions),
            "mi": mi_visit(code, True)}


@pytest.fixture(scope="module")
def stdlib_slice(tmp_path_factory):
    need_scan()  # (a module's fixture comes before the autouse one)
    d = tmp_path_factory.mktemp("slice")
    for rel in SLICE:
        src = os.path.join(STDLIB, rel)
        if os.path.exists(src):
            dst = d / rel.replace("/", "__")
            dst.write_bytes(open(src, "rb").read())
    r, rep = scan(d)
    assert r.returncode == 0, r.stderr.decode()
    return d, rep


def test_agrees_with_radon_on_a_slice_of_the_stdlib(stdlib_slice):
    d, rep = stdlib_slice
    assert len(rep["files"]) >= 25
    blocks = blocks_ok = files_ok = 0
    for f in rep["files"]:
        theirs = radon_of(d / f["path"])
        ours_raw = {k: f[k] for k in theirs["raw"]}
        assert ours_raw == theirs["raw"], f["path"]
        ours = collections.Counter((b["type"], b["name"], b["classname"], b["lineno"], b["endline"],
                                    b["complexity"]) for b in f["blocks"])
        blocks += sum(theirs["blocks"].values())
        blocks_ok += sum((ours & theirs["blocks"]).values())
        h = f["halstead"]
        files_ok += ((h["h1"], h["h2"], h["N1"], h["N2"]) == theirs["hal"][:4]
                     and h["volume"] == pytest.approx(theirs["hal"][4], rel=1e-12)
                     and f["mi"] == pytest.approx(theirs["mi"], abs=1e-9)
                     and collections.Counter(
                         (x["name"], x["halstead"]["h1"], x["halstead"]["h2"], x["halstead"]["N1"],
                          x["halstead"]["N2"]) for x in f["halstead_functions"]) == theirs["hal_fns"])
    # the target is 99.5% of blocks and of files; on this slice they are all equal
    assert blocks_ok == blocks and files_ok == len(rep["files"])


def test_match_statements_by_radon_version(tmp_path):
    """radon 6 counts a match statement's cases (less one where a case
    catches everything, a guarded capture included); radon 5 counts none."""
    (tmp_path / "m.py").write_text(
        "def f(x):\n    match x:\n        case 1:\n            return 1\n"
        "        case [a, b]:\n            return 2\n        case y if y > 3:\n"
        "            return 3\n\n"
        "def g(x):\n    match x:\n        case 1: pass\n        case 2: pass\n")
    for version, want in (("5", {"f": 1, "g": 1}), ("6", {"f": 3, "g": 3})):
        r = run([OMNI, "--scan", str(tmp_path), "--radon", version, "--format", "json"])
        got = {b["name"]: b["complexity"] for b in json.loads(r.stdout)["files"][0]["blocks"]}
        assert got == want, version
    if RADON == "6":
        assert sorted((b.name, b.complexity) for b in cc_visit((tmp_path / "m.py").read_text())) \
            == [("f", 3), ("g", 3)]
    r = run([OMNI, "--scan", str(tmp_path), "--radon", "4"])
    assert r.returncode == 2 and b"--radon takes 5 or 6" in r.stderr


def test_blocks_ranks_and_the_json_contract(tmp_path):
    (tmp_path / "m.py").write_text(
        "class A:\n"
        "    def f(self, x):\n"
        "        if x and x > 1 or x < -1:\n"
        "            return [i for i in range(x) if i % 2]\n"
        "        return 0\n"
        "    def g(self):\n"
        "        pass\n"
        "def h():\n"
        "    # comment\n"
        "    '''doc'''\n"
        "    for i in range(3):\n"
        "        pass\n"
        "    else:\n"
        "        pass\n")
    r, rep = scan(tmp_path)
    assert r.returncode == 0
    f = rep["files"][0]
    assert (f["loc"], f["sloc"], f["comments"], f["single_comments"], f["blank"]) == (14, 12, 1, 2, 0)
    b = {x["name"]: x for x in f["blocks"]}
    # f: if (+1), and/or (+2), a comprehension with an if (+2), +1
    assert b["f"]["complexity"] == 6 and b["f"]["rank"] == "B" and b["f"]["classname"] == "A"
    assert b["f"]["type"] == "method" and b["f"]["endline"] == 5
    assert b["h"]["complexity"] == 3 and b["h"]["type"] == "function"   # for with else
    # a class: 1 + its methods' (6 + 1) = 8, reported as int(8 / 2 methods) + 1
    assert b["A"]["complexity"] == 5 and b["A"]["type"] == "class"
    assert [x["name"] for x in f["blocks"]] == ["f", "A", "h", "g"]      # most complex first
    theirs = sorted((b.name, b.complexity) for b in cc_visit((tmp_path / "m.py").read_text()))
    assert sorted((x["name"], x["complexity"]) for x in f["blocks"]) == theirs
    assert f["mi_rank"] in "ABC" and 0 <= f["mi"] <= 100
    assert set(f["halstead"]) == {"h1", "h2", "N1", "N2", "vocabulary", "length",
                                  "calculated_length", "volume", "difficulty", "effort", "time",
                                  "bugs"}


def test_discovery_skips_and_excludes(tmp_path):
    for rel in ["a.py", "pkg/b.py", "pkg/__pycache__/c.py", ".git/d.py", "node_modules/e.py",
                "venv2/lib/f.py", "build/g.py", "gen/h.py", "keep/i.py", "keep/skip_me.py",
                "x.egg-info/j.py", "notes.txt"]:
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("x = 1\n")
    (tmp_path / "venv2" / "pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / ".gitignore").write_text("# generated\ngen/\n*.pyc\n")
    os.symlink(str(tmp_path), str(tmp_path / "pkg" / "loop"))     # no loop followed
    r, rep = scan(tmp_path, "--exclude", "*/skip_*.py")
    assert r.returncode == 0, r.stderr.decode()
    assert [f["path"] for f in rep["files"]] == ["a.py", "keep/i.py", "pkg/b.py"]


def test_bad_files_are_reported_and_the_scan_goes_on(tmp_path):
    (tmp_path / "ok.py").write_text("def f():\n    return 1\n")
    (tmp_path / "syntax.py").write_text("def f(:\n")
    (tmp_path / "latin.py").write_bytes(b"# -*- coding: latin-1 -*-\ns = '\xe9'\n")
    (tmp_path / "undecodable.py").write_bytes(b"s = '\xff\xfe'\n")
    (tmp_path / "binary.py").write_bytes(b"\x00\x01\x02")
    secret = tmp_path / "secret.py"
    secret.write_text("x = 1\n")
    secret.chmod(0)
    r, rep = scan(tmp_path)
    secret.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert r.returncode == 1                      # some files could not be analysed
    errors = {f["path"]: f["error"] for f in rep["files"] if f["error"]}
    assert "SyntaxError" in errors["syntax.py"] and "line 1" in errors["syntax.py"]
    assert "cannot decode as utf-8" in errors["undecodable.py"]
    assert "binary" in errors["binary.py"]
    if os.geteuid() != 0:                          # root reads anything
        assert "Permission denied" in errors["secret.py"]
    ok = {f["path"] for f in rep["files"] if not f["error"]}
    assert {"ok.py", "latin.py"} <= ok and rep["errors"] == len(errors)
    text = run([OMNI, "--scan", str(tmp_path)]).stdout.decode()
    assert "Files not analysed" in text and "syntax.py: SyntaxError" in text


def test_usage_errors(tmp_path):
    r = run([OMNI, "--scan", str(tmp_path / "missing")])
    assert r.returncode == 3 and b"No such file or directory" in r.stderr
    r = run([OMNI, "--scan", str(tmp_path), "--format", "md"])
    assert r.returncode == 2 and b"--scan writes text, json or html" in r.stderr
    r = run([OMNI, "--exclude", "x", "-c", "pass"])
    assert r.returncode == 2


def test_a_large_generated_file(tmp_path):
    # 100,000 lines: one pass (radon's raw and mi are quadratic in a file's
    # statements' lengths); the numbers are exact
    lines = []
    for i in range(20000):
        lines += [f"def f{i}(x):", f"    if x > {i}:", "        return x  # big", "    return 0", ""]
    (tmp_path / "big.py").write_text("\n".join(lines) + "\n")
    r, rep = scan(tmp_path)
    assert r.returncode == 0
    f = rep["files"][0]
    assert (f["loc"], f["sloc"], f["blank"], f["comments"], f["lloc"]) == (100000, 80000, 20000, 20000, 80000)
    assert len(f["blocks"]) == 20000 and all(b["complexity"] == 2 for b in f["blocks"])


COMPLEX = '''\
def classify(n):
    if n % 15 == 0:
        return "fizzbuzz"
    elif n % 5 == 0:
        return "buzz"
    elif n % 3 == 0:
        return "fizz"
    elif n < 0 or n > 10 ** 9:
        return "out"
    for d in range(2, 60):
        if n % d == 0 and d > 55:
            return "div"
        while d > 100:
            d -= 1
    return "other" if n % 2 else "even"


def simple(x):
    return x + 1
'''

MAIN = '''\
from app.core import classify, simple


def main():
    t = 0
    for i in range(60000):
        t += len(classify(i)) + simple(i)
    print(t)


if __name__ == "__main__":
    main()
'''


def make_project(root):
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "core.py").write_text(COMPLEX)
    (root / "app" / "__main__.py").write_text(MAIN)
    (root / "pyproject.toml").write_text('[project]\nname = "app"\n\n[project.scripts]\n'
                                         'app-cli = "app.__main__:main"\n')
    (root / "setup.cfg").write_text("[options.entry_points]\nconsole_scripts =\n"
                                    "    app-old = app.__main__:main\n")


def test_entry_points(tmp_path):
    make_project(tmp_path)
    r, rep = scan(tmp_path)
    assert r.returncode == 0
    eps = {(e["kind"], e["name"], e["target"], e["source"]) for e in rep["entry_points"]}
    assert eps == {("main", "app/__main__.py", "python app/__main__.py", "app/__main__.py:11"),
                   ("package", "app", "python -m app", "app/__main__.py"),
                   ("console_script", "app-cli", "app.__main__:main", "pyproject.toml:5"),
                   ("console_script", "app-old", "app.__main__:main", "setup.cfg:3")}


def test_scan_joined_with_a_run(tmp_path):
    make_project(tmp_path)
    r, rep = scan(tmp_path, "--run", "-m app", "--timeout", "120")
    assert r.returncode == 0, r.stderr.decode()
    run_ = rep["run"]
    assert run_["exit_status"] == 0 and run_["command"] == "-m app"
    blocks = {b["name"]: b for f in rep["files"] for b in f["blocks"]}
    fns = {f["name"]: f for f in run_["functions"]}
    # the run's functions carry the scan's complexity (joined by path and name)
    assert fns["classify"]["complexity"] == blocks["classify"]["complexity"] == 11
    assert fns["classify"]["path"] == "app/core.py" and fns["simple"]["complexity"] == 1
    assert fns["classify"]["calls"] == 60000
    # complex and hot first: complexity x share of the samples, decreasing
    scores = [f["complexity"] * (f["sample_share"] or 0) for f in run_["functions"]]
    assert scores == sorted(scores, reverse=True)
    assert run_["functions"][0]["name"] == "classify"
    hot = [f for f in run_["findings"] if f["id"] == "complex_and_hot"]
    assert hot and hot[0]["location"]["function"] == "classify"
    assert hot[0]["metrics"]["complexity"] == 11
    assert "complex_and_hot" not in [p["id"] for p in run_["patterns_skipped"]]
    # the session of the run is kept, and reports alone
    assert report_json(run_["session"])["run"]["exit_status"] == 0
    # the target's own output went to stderr, not into the JSON
    assert any(line.isdigit() for line in r.stderr.decode().split())


def test_scan_run_that_cannot_start(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    r, rep = scan(tmp_path, "--run", "   ")
    assert r.returncode == 5 and b"--run needs Python's arguments" in r.stderr


def test_static_call_graph(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "util.py").write_text(
        "def helper():\n    return 1\n\n\nclass Box:\n    def __init__(self):\n"
        "        self.v = helper()\n\n    def get(self):\n        return self.norm()\n\n"
        "    def norm(self):\n        return self.v\n")
    (pkg / "main.py").write_text(
        "import pkg.util\nfrom . import util as u\nfrom .util import Box, helper as h\n\n\n"
        "def run():\n"
        "    def inner():\n        return h()\n"
        "    b = Box()\n    b.get()\n    pkg.util.helper()\n    u.helper()\n    inner()\n"
        "    getattr(u, 'helper')()\n    len([])\n    return b\n")
    dot = tmp_path / "cg.dot"
    r, rep = scan(tmp_path, "--callgraph", str(dot))
    assert r.returncode == 0, r.stderr.decode()
    cg = rep["callgraph"]
    ids = {n["id"]: n for n in cg["nodes"]}
    assert ids["pkg.util:Box.get"]["kind"] == "method" and ids["pkg.util:Box"]["kind"] == "class"
    assert ids["pkg.main:run.<locals>.inner"]["line"] == 7
    edges = {(e["from"], e["to"], e["kind"]) for e in cg["edges"]}
    assert edges == {
        ("pkg.util:Box.__init__", "pkg.util:helper", "call"),        # a direct call
        ("pkg.util:Box.get", "pkg.util:Box.norm", "call"),           # self.method()
        ("pkg.main:run", "pkg.util:Box", "instantiate"),             # a class, through an import
        ("pkg.main:run", "pkg.util:Box.__init__", "call"),           # ... and its __init__
        ("pkg.main:run", "pkg.util:helper", "call"),                 # module alias and dotted path
        ("pkg.main:run", "pkg.main:run.<locals>.inner", "call"),     # a nested function
        ("pkg.main:run.<locals>.inner", "pkg.util:helper", "call"),  # an imported name, renamed
    }
    # the module-level graph: pkg.main imports pkg.util (three ways: one edge)
    assert [(e["from"], e["to"]) for e in cg["module_edges"]] == [("pkg.main", "pkg.util")]
    helper = [e for e in cg["edges"] if e["from"] == "pkg.main:run" and e["to"] == "pkg.util:helper"]
    assert helper[0]["sites"] == 2
    # b.get() (a variable's method), getattr(...)() and len() are not resolved
    assert (cg["calls"], cg["resolved"], cg["unresolved"]) == (11, 7, 4)
    text = dot.read_text()
    assert text.startswith("digraph callgraph {") and text.rstrip().endswith("}")
    assert text.count("->") == len(cg["edges"])


def test_run_marks_the_edges_it_took(tmp_path):
    make_project(tmp_path)
    (tmp_path / "app" / "core.py").write_text(
        COMPLEX + "\n\ndef never():\n    return simple(0)\n\n\ndef dynamic():\n"
        "    return globals()['simple'](1)\n\n\n"
        # two functions of one name: the run's calls from both land on one edge
        "def twice():\n    return globals()['simple'](2)\n\n\nfirst_twice = twice\n\n\n"
        "def twice():\n    return globals()['simple'](3)\n")
    (tmp_path / "app" / "__main__.py").write_text(MAIN.replace(
        "    print(t)", "    from app.core import dynamic, first_twice, twice\n    dynamic()\n"
        "    for _ in range(3):\n        first_twice()\n    twice(), twice()\n    print(t)"))
    r, rep = scan(tmp_path, "--run", "-m app")
    assert r.returncode == 0, r.stderr.decode()
    edges = {(e["from"], e["to"]): e for e in rep["callgraph"]["edges"]}
    taken = edges[("app.__main__:main", "app.core:classify")]
    assert taken["seen"] and taken["run_calls"] == 60000 and taken["kind"] == "call"
    assert not edges[("app.core:never", "app.core:simple")]["seen"]       # never ran
    dyn = edges[("app.core:dynamic", "app.core:simple")]                   # only at run time
    assert dyn["kind"] == "runtime_only" and dyn["seen"] and dyn["run_calls"] == 1
    two = edges[("app.core:twice", "app.core:simple")]
    assert two["kind"] == "runtime_only" and two["run_calls"] == 5


@pytest.mark.skipif(not CHROMIUM, reason="Debian's chromium is not installed (test/run_tests.sh installs it)")
def test_html_scan_report_draws_the_call_graph(tmp_path):
    import re
    proj = tmp_path / "proj"
    proj.mkdir()
    make_project(proj)
    html = tmp_path / "scan.html"
    r = run([OMNI, "--scan", str(proj), "--run", "-m app", "--format", "html", "--out", str(html)])
    assert r.returncode == 0, r.stderr.decode()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html.read_text())
    dom = render(html, tmp_path)
    body = re.search(r"<body[^>]*>", dom).group(0)
    assert 'data-rendered="1"' in body and "data-errors" not in body, body
    rep = scan(proj)[1]
    # every node and edge of this small graph is drawn
    assert f'data-nodes="{len({n for e in rep["callgraph"]["edges"] for n in (e["from"], e["to"])})}"' in dom
    assert f'data-edges="{len(rep["callgraph"]["edges"])}"' in dom
    assert "classify" in dom and "complex_and_hot" in dom
