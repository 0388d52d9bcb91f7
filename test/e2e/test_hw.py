"""omnipython --hw: every fact checked against an independent source on this
machine (lscpu, nproc, /proc/cpuinfo, hwloc's tools, /proc/meminfo, uname,
/etc/os-release, the cgroup files), and the GPU and counter probes' way of
saying why they are unavailable. The NVML path runs against a stand-in
libnvidia-ml.so.1 with NVML's ABI (test/fakes/fake_nvml.c)."""
import json
import os
import platform
import re
import subprocess

import pytest

from conftest import OMNI, PYTHON, clean_env, read_records, report_json, run

FAKES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fakes")


def hw_json(env=None, *extra):
    r = run([OMNI, "--hw", "--format", "json", *extra], env=env or clean_env())
    assert r.returncode == 0, r.stderr.decode()
    return json.loads(r.stdout)


@pytest.fixture(scope="module")
def hw():
    return hw_json()


def lscpu():
    out = subprocess.run(["lscpu"], capture_output=True, text=True,
                         env=clean_env(LC_ALL="C")).stdout
    return {k.strip(): v.strip() for k, v in
            (line.split(":", 1) for line in out.splitlines() if ":" in line)}


def hwloc_count(kind):
    r = subprocess.run(["hwloc-calc", "-N", kind, "all"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return int(r.stdout.strip())


def test_topology_matches_lscpu_and_hwloc(hw):
    cpu = hw["cpu"]
    ls = lscpu()
    assert cpu["logical_cores"] == os.cpu_count() == int(
        subprocess.run(["nproc", "--all"], capture_output=True, text=True).stdout)
    assert cpu["sockets"] == int(ls["Socket(s)"]) == hwloc_count("package")
    assert cpu["physical_cores"] == hwloc_count("core")
    assert cpu["physical_cores"] == int(ls["Core(s) per socket"]) * int(ls["Socket(s)"])
    assert cpu["logical_cores"] == hwloc_count("pu")
    assert cpu["numa_nodes"] == max(1, hwloc_count("numanode"))
    assert cpu["arch"] == platform.machine() == ls["Architecture"]
    assert cpu["vendor"] == ls["Vendor ID"]
    assert cpu["model"] == ls["Model name"]


def lstopo_caches():
    """{(level, type): (size, count, ways)} of hwloc's own command, with cpuid."""
    import xml.etree.ElementTree as ET
    xml = subprocess.run(["lstopo-no-graphics", "--of", "xml"], capture_output=True,
                         text=True, check=True).stdout
    kinds = {"0": "unified", "1": "data", "2": "instruction"}
    want = {}
    for o in ET.fromstring(xml).iter("object"):
        if o.get("type", "").startswith("L") and o.get("type").endswith("Cache"):
            key = (int(o.get("depth")), kinds[o.get("cache_type")])
            size, count, ways = want.get(key, (int(o.get("cache_size")), 0,
                                               int(o.get("cache_associativity"))))
            want[key] = (size, count + 1, ways)
    return want


def test_caches_match_lscpu(hw):
    out = subprocess.run(["lscpu", "-B", "-C=NAME,ONE-SIZE,ALL-SIZE,WAYS,TYPE,LEVEL"],
                         capture_output=True, text=True).stdout.split("\n")[1:]
    want = {}
    for line in out:
        if not line.strip():
            continue
        name, one, all_, ways, typ, level = line.split()
        kind = {"Data": "data", "Instruction": "instruction", "Unified": "unified"}[typ]
        want[(int(level), kind)] = (int(one), int(all_) // int(one), int(ways))
    if not want:
        # A VM whose kernel has no cache folders in sysfs: lscpu lists none, and
        # omnipython takes them from cpuid as hwloc's lstopo does.
        want = lstopo_caches()
        assert want, "neither lscpu nor lstopo lists a cache"
        assert "caches from cpuid" in hw["cpu"]["topology_source"]
    got = {(c["level"], c["type"]): (c["size_bytes"], c["count"], c["ways"])
           for c in hw["cpu"]["caches"]}
    assert got == want
    assert all(c["line_bytes"] == 64 for c in hw["cpu"]["caches"]) or platform.machine() != "x86_64"


# SIMD extensions as /proc/cpuinfo spells them (sse3 is "pni" there).
X86_SIMD = ["sse", "sse2", "sse3", "ssse3", "sse4_1", "sse4_2", "avx", "fma", "f16c", "avx2",
            "avx_vnni", "avx512f", "avx512dq", "avx512ifma", "avx512pf", "avx512er", "avx512cd",
            "avx512bw", "avx512vl", "avx512vbmi", "avx512_vbmi2", "avx512_vnni", "avx512_bitalg",
            "avx512_vpopcntdq", "avx512_4vnniw", "avx512_4fmaps", "avx512_vp2intersect",
            "avx512_fp16", "avx512_bf16", "amx_bf16", "amx_tile", "amx_int8"]


@pytest.mark.skipif(platform.machine() != "x86_64", reason="x86-64 flags")
def test_simd_matches_cpuinfo_flags(hw):
    with open("/proc/cpuinfo") as f:
        flags = set(re.search(r"^flags\s*:(.*)$", f.read(), re.M).group(1).split())
    got = set(hw["cpu"]["simd"])
    for name in X86_SIMD:
        listed = ("pni" if name == "sse3" else name) in flags
        assert (name in got) == listed, f"{name}: ours {name in got}, /proc/cpuinfo {listed}"
    assert got <= set(X86_SIMD)


def test_frequency_matches_cpuinfo(hw):
    with open("/proc/cpuinfo") as f:
        mhz = [float(m) for m in re.findall(r"^cpu MHz\s*:\s*([\d.]+)", f.read(), re.M)]
    cur = hw["cpu"]["frequency"]["current_mhz"]
    if os.path.exists("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq"):
        assert cur and cur > 0
    elif mhz:
        assert cur == pytest.approx(mhz[0], rel=0.01)


def test_memory_and_os(hw):
    with open("/proc/meminfo") as f:
        meminfo = {k: int(v.split()[0]) * 1024 for k, v in
                   (line.split(":", 1) for line in f)}
    assert hw["memory"]["total_bytes"] == meminfo["MemTotal"]
    assert hw["memory"]["available_bytes"] == pytest.approx(meminfo["MemAvailable"], rel=0.05)
    assert hw["memory"]["page_bytes"] == os.sysconf("SC_PAGE_SIZE")
    osr = {}
    with open("/etc/os-release") as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                osr[k] = v.strip('"')
    o = hw["os"]
    assert o["name"] == osr["NAME"] and o["version"] == osr.get("VERSION_ID", "")
    assert o["pretty_name"] == osr["PRETTY_NAME"]
    assert o["kernel"] == platform.release() and o["hostname"] == platform.node()
    with open("/proc/loadavg") as f:
        load = [float(x) for x in f.read().split()[:3]]
    assert len(o["load"]) == 3
    for ours, theirs in zip(o["load"], load):
        assert abs(ours - theirs) < 1.0


def cgroup_limits():
    """This process's CPU quota and memory limit, read from the cgroup files
    directly (v2 when /sys/fs/cgroup is unified, else v1)."""
    with open("/proc/self/cgroup") as f:
        lines = [line.rstrip("\n").split(":", 2) for line in f]
    quota = limit = None
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        path = [p for h, c, p in lines if h == "0"][0]
        d = "/sys/fs/cgroup" + path
        if os.path.exists(d + "/cpu.max"):
            q, p = open(d + "/cpu.max").read().split()
            quota = None if q == "max" else int(q) / int(p)
        if os.path.exists(d + "/memory.max"):
            m = open(d + "/memory.max").read().strip()
            limit = None if m == "max" else int(m)
        return quota, limit
    paths = {c: p for h, cs, p in lines for c in cs.split(",")}
    if "cpu" in paths:
        d = "/sys/fs/cgroup/cpu" + paths["cpu"].rstrip("/")
        q = int(open(d + "/cpu.cfs_quota_us").read())
        p = int(open(d + "/cpu.cfs_period_us").read())
        quota = q / p if q > 0 else None
    if "memory" in paths:
        d = "/sys/fs/cgroup/memory" + paths["memory"].rstrip("/")
        m = int(open(d + "/memory.limit_in_bytes").read())
        limit = m if m < 1 << 62 else None
    return quota, limit


def test_container_limits_match_cgroup(hw):
    c = hw["os"]["container"]
    quota, limit = cgroup_limits()
    assert (c["cpu_quota"], c["memory_limit"]) == (quota, limit)


def test_text_output_names_the_facts(hw):
    r = run([OMNI, "--hw"], env=clean_env())
    assert r.returncode == 0
    out = r.stdout.decode()
    assert hw["cpu"]["model"] in out and platform.release() in out
    assert f"{hw['cpu']['physical_cores']} physical cores" in out


# ---------------------------------------------------------------- unavailable: why

def no_pmu():
    return not os.path.exists("/sys/bus/event_source/devices/cpu")


@pytest.mark.skipif(not no_pmu(), reason="this machine has a PMU")
def test_counters_unavailable_with_papi_reason(hw, tmp_path):
    c = hw["counters"]
    assert c["available"] is False
    # PAPI's own words for a CPU without a PMU (virtual CPUs): PAPI_ENOEVNT.
    assert "PAPI_TOT_INS" in c["reason"] and "PAPI error -7" in c["reason"]
    assert "Event does not exist" in c["reason"]
    # The same in a run's session and its report.
    s = tmp_path / "s.omni"
    r = run([OMNI, "--quiet", "--out", str(s), "-c", "import time; time.sleep(0.2)"])
    assert r.returncode == 0
    mon = [x for x in read_records(s) if x["kind"] == "monitor"][0]
    assert mon["counters"]["available"] is False
    assert "PAPI error -7" in mon["counters"]["reason"]
    rep = report_json(str(s))
    assert rep["counters"] == {"available": False, "reason": mon["counters"]["reason"]}


@pytest.mark.skipif(os.path.exists("/dev/nvidiactl"), reason="an NVIDIA driver is here")
def test_gpu_unavailable_says_why(hw):
    g = hw["gpu"]
    assert g["available"] is False
    assert "nvml: cannot load libnvidia-ml.so.1" in g["reason"]
    assert "rocm_smi: cannot load librocm_smi64.so" in g["reason"]
    assert "sysfs:" in g["reason"]


def test_energy_unavailable_says_why(hw):
    e = hw["energy"]
    if os.path.isdir("/sys/class/powercap"):
        pytest.skip("this machine has powercap")
    assert e == {"available": False,
                 "reason": "no RAPL: /sys/class/powercap: No such file or directory"}


# ---------------------------------------------------------------- NVML through a stand-in

def test_nvml_device_facts(fake_nvml):
    g = hw_json(clean_env(LD_LIBRARY_PATH=fake_nvml))["gpu"]
    assert g["available"] is True and g["source"] == "nvml"
    assert g["devices"] == [{"index": 0, "vendor": "NVIDIA", "model": "Fake GPU 80GB",
                             "vram_bytes": 80 << 30, "driver": "550.54.15", "cuda": "CUDA 12.4",
                             "compute_capability": "9.0", "pci_bus": "00000000:1B:00.0"}]


def test_nvml_failure_is_a_reason(fake_nvml):
    g = hw_json(clean_env(LD_LIBRARY_PATH=fake_nvml, FAKE_NVML_FAIL="1"))["gpu"]
    assert g["available"] is False
    assert g["reason"].startswith("nvml: Driver Not Loaded; rocm_smi: ")


def test_nvml_timeline(fake_nvml, tmp_path):
    s = tmp_path / "g.omni"
    r = run([OMNI, "--quiet", "--interval", "50", "--out", str(s), "-c",
             "import time; time.sleep(0.5)"], env=clean_env(LD_LIBRARY_PATH=fake_nvml))
    assert r.returncode == 0, r.stderr.decode()
    rep = report_json(str(s))
    g = rep["gpu"]
    assert g["available"] is True
    d = g["devices"][0]
    assert d["model"] == "Fake GPU 80GB"
    assert d["util_mean_pct"] == 42 and d["util_max_pct"] == 42
    assert d["mem_used_max_bytes"] == 3 << 30 and d["process_mem_max_bytes"] == 512 << 20
    assert d["power_max_w"] == pytest.approx(123.456)
    rows = rep["timeline"]["series"]["gpu"]["rows"]
    assert len(rows) >= 5
    # 100 J more at every reading of the stand-in's energy counter.
    assert d["energy_j"] == pytest.approx(100 * (len(rows) - 1))
    e = rep["energy"]
    assert e["available"] is True and e["gpu_j"] == d["energy_j"] and e["cpu_j"] is None
    assert e["kwh"] == pytest.approx(e["total_j"] / 3.6e6)
    assert e["co2_grams"] == pytest.approx(e["kwh"] * 475)


# ---------------------------------------------------------------- --bench

def test_bench_measures_the_machine():
    d = hw_json(None, "--bench")["bench"]
    assert d["threads"] == os.cpu_count()
    assert 0.5 < d["memory_bandwidth_gbps"] < 2000
    assert d["triad_array_bytes"] >= 32 << 20
    assert 0.1 < d["scalar_gflops"] < d["simd_gflops"] <= d["simd_gflops_all_cores"] * 1.2
    assert d["simd_kernel"] in ("avx512f", "avx2+fma", "sse2", "neon")


def test_bench_only_with_hw():
    r = run([OMNI, "--bench"])
    assert r.returncode == 2 and b"--bench goes with --hw" in r.stderr


# ---------------------------------------------------------------- PAPI through a stand-in

@pytest.fixture(scope="module")
def fake_papi(tmp_path_factory):
    d = tmp_path_factory.mktemp("papi")
    r = subprocess.run(["cc", "-shared", "-fPIC", "-o", str(d / "libpapi.so.7.0"),
                        os.path.join(FAKES, "fake_papi.c")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return str(d)


def test_counters_timeline_ipc_and_bandwidth(fake_papi, tmp_path):
    env = clean_env(LD_LIBRARY_PATH=fake_papi)
    assert hw_json(env)["counters"] == {
        "available": True, "source": "papi",
        "events": ["instructions", "cycles", "l1_data_misses", "llc_misses",
                   "branch_mispredictions", "fp_operations"]}
    s = tmp_path / "c.omni"
    r = run([OMNI, "--quiet", "--interval", "50", "--out", str(s), "-c",
             "import time; time.sleep(0.5)"], env=env)
    assert r.returncode == 0, r.stderr.decode()
    rep = report_json(str(s))
    c = rep["counters"]
    rows = rep["timeline"]["series"]["counters"]["rows"]
    reads = len(rows) - 1  # totals are differences from the first reading
    assert reads >= 5
    assert c["events"]["cycles"] == 1000 * reads and c["events"]["instructions"] == 2000 * reads
    assert c["ipc"] == 2.0
    line = max(c["line_bytes"] for c in rep["hardware"]["cpu"]["caches"])
    assert c["estimated_memory_bytes"] == 10 * reads * line
    span = (rows[-1][0] - rows[0][0]) / 1e9
    assert c["estimated_memory_bandwidth_gbps"] == pytest.approx(
        10 * reads * line / rep["timeline"]["span_s"] / 1e9)
    assert span > 0.3
