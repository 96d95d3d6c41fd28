#!/usr/bin/env python3
"""bench.py: the Python half of bench/run (stdlib only).

Data:
    gen-big PATH MIB              a file of MIB MiB, no two MiB alike
    gen-tree DIR NDIRS NFILES SIZE
                                  NDIRS folders of NFILES random files
    gen-flat DIR N                N empty files in one folder
    gen-many DIR N                N empty files in folders of 1,000
    perturb PATH                  new random first 16 bytes (in place), so
                                  a content-addressed store cannot dedup
Measurements:
    fio-value JSONFILE FIELD      bw (bytes/s) or iops of fio's first job
Report:
    report SAMPLES META [--json FILE]
        SAMPLES: lines "metric<TAB>system<TAB>value"; META: a JSON object
        (mode, machine, sizes, notes).  Prints the table with ratios and
        targets; writes the JSON (one key per metric, plus "meta").
"""
import json
import os
import statistics
import sys

# ---- data -------------------------------------------------------------------


def gen_big(path, mib):
    block = bytearray(os.urandom(1 << 20))
    with open(path, "wb") as f:
        for i in range(mib):
            block[0:8] = i.to_bytes(8, "little")
            f.write(block)


def gen_tree(root, ndirs, nfiles, size):
    # one random pool, sliced at shifting offsets and stamped with the
    # file's number: every file differs, and making 10,000 is fast
    pool = os.urandom(size + 65536)
    n = 0
    for d in range(ndirs):
        dd = os.path.join(root, "d%03d" % d)
        os.makedirs(dd, exist_ok=True)
        for i in range(nfiles):
            off = (n * 4099) % 65536
            data = n.to_bytes(8, "little") + pool[off + 8:off + size]
            with open(os.path.join(dd, "f%03d" % i), "wb") as f:
                f.write(data[:size])
            n += 1


def gen_flat(root, n):
    os.makedirs(root, exist_ok=True)
    for i in range(n):
        fd = os.open(os.path.join(root, "f%06d" % i),
                     os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.close(fd)


def gen_many(root, n):
    """n empty files in folders of 1,000 (the scale catalog)."""
    for d in range((n + 999) // 1000):
        gen_flat(os.path.join(root, "d%04d" % d), min(1000, n - d * 1000))


def perturb(path):
    fd = os.open(path, os.O_WRONLY)
    try:
        os.pwrite(fd, os.urandom(16), 0)
    finally:
        os.close(fd)


def fio_value(path, field):
    with open(path) as f:
        text = f.read()
    # fio may print warnings before its JSON
    j = json.loads(text[text.index("{"):])
    job = j["jobs"][0]["read"]
    if field == "bw":
        print(job["bw_bytes"])
    elif field == "iops":
        print(job["iops"])
    else:
        raise SystemExit("unknown field " + field)


# ---- the report -------------------------------------------------------------

SYSTEMS = ["native", "bindfs", "corafs", "corafs-nox", "s3fs", "corafs-s3"]
COMPARED = ["corafs", "corafs-nox", "corafs-s3"]   # get ratios

# key: (group, label, unit, better, scale)
#   better "low": a time (ratio = system / native);
#   better "high": a rate (ratio = native / system, so that for every
#   ratio lower is better and 1.0 is native speed); "abs": no ratio.
METRICS = [
    ("seq_read_cold_dd", "read", "seq read 2G cold, dd bs=1M", "s", "low"),
    ("seq_read_warm_dd", "read", "seq read 2G warm, dd bs=1M", "s", "low"),
    ("seq_read_cold_fio", "read", "seq read cold, fio 1M", "MB/s", "high"),
    ("seq_read_warm_fio", "read", "seq read warm, fio 1M", "MB/s", "high"),
    ("rand_read_4k", "read", "random 4K read warm, fio qd1", "IOPS", "high"),
    ("find_cold", "tree", "find, cold", "s", "low"),
    ("find_warm", "tree", "find, warm", "s", "low"),
    ("lsR_cold", "tree", "ls -lR, cold", "s", "low"),
    ("lsR_warm", "tree", "ls -lR, warm", "s", "low"),
    ("stat_cold", "tree", "stat every file, cold", "s", "low"),
    ("stat_warm", "tree", "stat every file, warm", "s", "low"),
    ("du_cold", "tree", "du -s, cold", "s", "low"),
    ("du_warm", "tree", "du -s, warm", "s", "low"),
    ("ls_flat_cold", "flat", "ls -l of the flat folder, cold", "s", "low"),
    ("ls_flat_warm", "flat", "ls -l of the flat folder, warm", "s", "low"),
    ("rsync1", "rsync", "rsync -a tree out, first", "s", "low"),
    ("rsync2", "rsync", "rsync -a tree out, second", "s", "low"),
    ("rsync2_changes", "rsync", "second rsync: items changed", "items", "abs"),
    ("cp_big", "write", "cp 2G file in (returns committed)", "s", "low"),
    ("cp_big_sync", "write", "cp 2G file in, then sync", "s", "low"),
    ("ingest_big", "write", "cora dataset ingest of the 2G file", "s", "low"),
    ("cp_sha256_big", "write", "cp + sha256sum of the 2G file", "s", "low"),
    ("create_tree", "write", "create small files (cp -r)", "files/s", "high"),
    ("catalog_gen", "scale", "make the scale catalog's files", "s", "abs"),
    ("catalog_ingest", "scale", "ingest the scale catalog", "s", "abs"),
    ("mount_scale", "scale", "mount the scale catalog", "s", "abs"),
    ("rss_mount_scale", "scale", "daemon RSS after mount", "MiB", "abs"),
    ("ls_root_scale", "scale", "first ls -l of the root (README.txt)", "s", "abs"),
    ("lsR_scale", "scale", "ls -lR of the scale catalog", "s", "abs"),
    ("rss_lsR_scale", "scale", "daemon RSS after that ls -lR", "MiB", "abs"),
    ("hwm_lsR_scale", "scale", "daemon peak RSS (VmHWM)", "MiB", "abs"),
    ("s3_read_cold", "s3", "S3 blob read 2G, cold cache, dd", "MB/s", "high"),
    ("s3_read_warm", "s3", "S3 blob read 2G, warm cache, dd", "MB/s", "high"),
]

# (metric, system, kind, limit, text)
#   kind "ratio": ratio to native <= limit; "ratio_to": ratio to the
#   median of another metric's native figure; "max"/"min": the figure.
TARGETS = [
    ("seq_read_warm_dd", "corafs", "ratio", 1.3, "<= 1.3 x native"),
    ("seq_read_warm_fio", "corafs", "ratio", 1.3, "<= 1.3 x native"),
    ("stat_warm", "corafs", "ratio", 1.3, "<= 1.3 x native"),
    ("stat_warm", "corafs-nox", "ratio", 1.3, "<= 1.3 x native"),
    ("lsR_warm", "corafs", "ratio", 3.0, "<= 3.0 x native"),
    ("lsR_warm", "corafs-nox", "ratio", 1.3, "<= 1.3 x native"),
    ("lsR_cold", "corafs-nox", "ratio", 1.5, "<= 1.5 x native"),
    ("rsync2", "corafs", "ratio", 1.3, "<= 1.3 x native"),
    ("rsync2_changes", "corafs", "max", 0, "== 0 items"),
    ("cp_big", "corafs", "ratio", 3.0, "<= 3.0 x native cp"),
    ("ingest_big", "corafs", "ratio_to:cp_sha256_big", 1.5,
     "<= 1.5 x (cp + sha256sum)"),
    ("create_tree", "corafs", "min", 1000, ">= 1000 files/s"),
    ("ls_flat_cold", "corafs", "max", 1.5, "<= 1.5 s"),
    ("ls_flat_warm", "corafs", "max", 1.5, "<= 1.5 s"),
    ("ls_flat_cold", "corafs-nox", "max", 1.5, "<= 1.5 s"),
    ("ls_flat_warm", "corafs-nox", "max", 1.5, "<= 1.5 s"),
    ("mount_scale", "corafs", "max", 1.0, "< 1 s"),
    ("rss_mount_scale", "corafs", "max", 100, "< 100 MiB"),
    ("rss_lsR_scale", "corafs", "max", 200, "< 200 MiB"),
]


def load_samples(path):
    samples = {}
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3:
                continue
            m, s, v = parts
            try:
                samples.setdefault(m, {}).setdefault(s, []).append(float(v))
            except ValueError:
                pass
    return samples


def ratio(better, value, base):
    if value is None or base is None or base == 0 or value == 0:
        return None
    return value / base if better == "low" else base / value


def fmt(v, unit=""):
    if v is None:
        return "-"
    if unit in ("IOPS", "files/s", "MB/s", "items", "MiB"):
        return "%.0f" % v if abs(v) >= 10 else "%.1f" % v
    if abs(v) >= 100:
        return "%.0f" % v
    if abs(v) >= 10:
        return "%.1f" % v
    if abs(v) >= 1:
        return "%.2f" % v
    return "%.3f" % v


def fmt_ratio(r):
    return "-" if r is None else ("%.2f" % r if r < 10 else "%.1f" % r)


def report(samples_path, meta_path, json_path):
    samples = load_samples(samples_path)
    with open(meta_path) as f:
        meta = json.load(f)
    sizes = meta.get("sizes", {})
    out = {"meta": meta}
    rows = []
    for key, group, label, unit, better in METRICS:
        if key not in samples:
            continue
        if key.startswith("s3_"):
            mib = sizes.get("s3_mib", 2048)
            label = label.replace("2G", "%dG" % (mib // 1024) if mib >= 1024
                                  else "%dM" % mib)
        label = label.replace("2G", sizes.get("big_label", "2G"))
        if key == "create_tree":
            label += " (%s files)" % sizes.get("create_files", "?")
        if key.endswith("_scale"):
            label += " (%s files)" % sizes.get("scale_files", "?")
        if key.startswith("ls_flat"):
            label = label.replace("flat folder",
                                  "%s-entry folder" % sizes.get("flat", "?"))
        entry = {"label": label, "unit": unit, "better": better}
        med = {}
        for sysname in SYSTEMS:
            vals = samples[key].get(sysname)
            if not vals:
                continue
            m = statistics.median(vals)
            med[sysname] = m
            entry[sysname] = {"median": m, "samples": vals}
        nat = med.get("native")
        bfs = med.get("bindfs")
        for sysname in ["bindfs"] + COMPARED:
            if sysname in med and better != "abs":
                entry[sysname]["ratio_native"] = ratio(better, med[sysname], nat)
                if sysname != "bindfs":
                    entry[sysname]["ratio_bindfs"] = ratio(better, med[sysname], bfs)
        if key.startswith("s3_") and "s3fs" in med and "corafs-s3" in med:
            entry["corafs-s3"]["ratio_s3fs"] = ratio(better, med["corafs-s3"],
                                                     med["s3fs"])
        entry["targets"] = []
        out[key] = entry
        rows.append((key, group, label, unit, better, med, entry))

    # targets
    for key, sysname, kind, limit, text in TARGETS:
        if key not in out or sysname not in out[key]:
            continue
        e = out[key]
        v = e[sysname]["median"]
        if kind == "ratio":
            got = e[sysname].get("ratio_native")
            ok = got is not None and got <= limit
        elif kind.startswith("ratio_to:"):
            other = kind.split(":", 1)[1]
            base = out.get(other, {}).get("native", {}).get("median")
            got = ratio(e["better"], v, base)
            e[sysname]["ratio_" + other] = got
            ok = got is not None and got <= limit
        elif kind == "max":
            got = v
            ok = v <= limit if text.startswith("<=") or text.startswith("==") \
                else v < limit
        else:
            got = v
            ok = v >= limit
        e["targets"].append({"system": sysname, "target": text, "kind": kind,
                             "limit": limit, "value": got, "pass": bool(ok)})

    # the table
    hdr = ["metric", "unit", "native", "bindfs", "corafs", "x nat", "x bfs",
           "noxattr", "x nat", "x bfs", "target"]
    lines = []
    last_group = None
    for key, group, label, unit, better, med, e in rows:
        if group != last_group and last_group is not None:
            lines.append(None)
        last_group = group
        c = e.get("corafs", {})
        x = e.get("corafs-nox", {})
        tg = []
        for t in e["targets"]:
            who = "" if t["system"] == "corafs" else "noxattr: "
            shown = fmt_ratio(t["value"]) + "x" if t["kind"].startswith("ratio") \
                else fmt(t["value"], unit)
            tg.append("%s%s %s" % (who, t["target"], "PASS" if t["pass"] else
                                   "MISS (%s)" % shown))
        def cell(sysname):
            # "+": measured fewer times than the others (run's ONCE_OVER)
            n = len(e.get(sysname, {}).get("samples", []))
            few = 0 < n < max(len(e[k]["samples"]) for k in med)
            return fmt(med.get(sysname), unit) + ("+" if few else "")
        row = [label, unit, cell("native"), cell("bindfs"), cell("corafs"),
               fmt_ratio(c.get("ratio_native")),
               fmt_ratio(c.get("ratio_bindfs")),
               cell("corafs-nox"),
               fmt_ratio(x.get("ratio_native")),
               fmt_ratio(x.get("ratio_bindfs")),
               "; ".join(tg)]
        if key == "ingest_big":
            r = c.get("ratio_cp_sha256_big")
            row[5] = fmt_ratio(r) + "*" if r is not None else "-"
        if key == "cp_big_sync":
            # the durable native baseline: corafs' cp returns committed
            cp = out.get("cp_big", {}).get("corafs", {})
            if "median" in cp and med.get("native"):
                r = ratio("low", cp["median"], med["native"])
                cp["ratio_cp_big_sync"] = r
                row[4] = fmt(cp["median"], unit)
                row[5] = fmt_ratio(r) + "**"
        if key.startswith("s3_"):
            row[2] = "-"
            row[3] = "s3fs " + fmt(med.get("s3fs"), unit) if "s3fs" in med else "-"
            s3 = e.get("corafs-s3", {})
            row[4] = fmt(med.get("corafs-s3"), unit)
            row[5] = "-"
            row[6] = fmt_ratio(s3.get("ratio_s3fs"))
        lines.append(row)
    widths = [len(h) for h in hdr]
    for r in lines:
        if r:
            for i, cell in enumerate(r[:-1]):
                widths[i] = max(widths[i], len(cell))

    def show(r):
        cells = [r[0].ljust(widths[0]), r[1].ljust(widths[1])]
        cells += [r[i].rjust(widths[i]) for i in range(2, len(r) - 1)]
        return "  ".join(cells + [r[-1]]).rstrip()

    print()
    print("corafs bench (%s mode) on %s" % (meta.get("mode"), meta.get(
        "machine", {}).get("summary", "?")))
    print("medians of %s run(s); warm-up: %s; x nat / x bfs: corafs over "
          "native / bindfs (time ratios; rates inverted, so lower is better "
          "and 1.00 is equal)" % (meta.get("reps", "?"), "1 run" if
                                  meta.get("warmup", 1) else "none (no warm-up)"))
    print(show(hdr))
    print("-" * min(200, sum(widths) + 2 * len(widths) + 30))
    for r in lines:
        if r is None:
            print()
        else:
            print(show(r))
    print()
    if any(r and "+" in "".join(r[2:5] + r[7:8]) for r in lines):
        print("+ measured once: a reference system's run took over 2 s "
              "(--quick's limit; corafs is always measured in full)")
    if "ingest_big" in out:
        print("* ingest: ratio to native cp + sha256sum of the same file")
    if "ratio_cp_big_sync" in out.get("cp_big", {}).get("corafs", {}):
        print("** corafs' cp (which returns with the file fsynced and "
              "committed) over native cp + sync")
    npass = sum(1 for k in out if k != "meta" for t in out[k]["targets"] if t["pass"])
    nmiss = sum(1 for k in out if k != "meta" for t in out[k]["targets"]
                if not t["pass"])
    print("targets: %d PASS, %d MISS; the run took %s s" % (
        npass, nmiss, meta.get("seconds", "?")))
    for n in meta.get("notes", []):
        print("note: " + n)
    out["meta"]["targets_pass"] = npass
    out["meta"]["targets_miss"] = nmiss
    if json_path:
        with open(json_path, "w") as f:
            json.dump(out, f, indent=1, sort_keys=False)
            f.write("\n")
        print("json: " + json_path)


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    cmd, a = argv[1], argv[2:]
    if cmd == "gen-big":
        gen_big(a[0], int(a[1]))
    elif cmd == "gen-tree":
        gen_tree(a[0], int(a[1]), int(a[2]), int(a[3]))
    elif cmd == "gen-flat":
        gen_flat(a[0], int(a[1]))
    elif cmd == "gen-many":
        gen_many(a[0], int(a[1]))
    elif cmd == "perturb":
        perturb(a[0])
    elif cmd == "fio-value":
        fio_value(a[0], a[1])
    elif cmd == "report":
        json_path = None
        if "--json" in a:
            json_path = a[a.index("--json") + 1]
        report(a[0], a[1], json_path)
    else:
        raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv)
