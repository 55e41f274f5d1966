//! Process-level tests of the `solve` binary: output, JSON schema, exit codes, files, signals.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn solve() -> Command {
    Command::new(env!("CARGO_BIN_EXE_solve"))
}

fn root(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// A file of the shared suites (`../shared/data`), or `None` after printing what is skipped when
/// that folder is not beside the repository (a fresh clone).
fn shared(rel: &str, what: &str) -> Option<PathBuf> {
    let p = root("../shared/data");
    if p.is_dir() {
        Some(p.join(rel))
    } else {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "skipped: {what} (needs ../shared/data/{rel}; the shared suites are not beside this clone)"
        );
        None
    }
}

fn run(args: &[&str]) -> Output {
    solve().args(args).output().expect("run solve")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const SMALL: &str = "data/maxcut/er_n24_p30_unit_s3.txt";

#[test]
fn human_summary_on_stdout_and_exit_zero() {
    let f = root(SMALL);
    let out = run(&[
        "maxcut",
        f.to_str().unwrap(),
        "--max-rounds",
        "30",
        "--seed",
        "5",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.contains("cut           70"), "{s}");
    assert!(s.contains("status        iteration limit"), "{s}");
    assert!(s.contains("seed          5"), "{s}");
    // The iteration table goes to stderr, not stdout.
    assert!(text(&out.stderr).contains("round"), "{}", text(&out.stderr));
    let q = run(&["maxcut", f.to_str().unwrap(), "--max-rounds", "5", "-q"]);
    assert_eq!(q.status.code(), Some(0));
    assert!(
        q.stderr.is_empty(),
        "-q keeps stderr silent: {}",
        text(&q.stderr)
    );
}

#[test]
fn json_report_schema() {
    let f = root(SMALL);
    let out = run(&[
        "maxcut",
        f.to_str().unwrap(),
        "--target",
        "70",
        "--json",
        "--threads",
        "2",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "--json keeps stderr silent");
    let s = text(&out.stdout);
    assert_eq!(s.lines().count(), 1, "one JSON document on one line");
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    assert_eq!(v["algorithm"], "mcpg");
    assert_eq!(v["problem"], "maxcut");
    assert_eq!(v["status"], "target_reached");
    assert_eq!(v["sense"], "maximize");
    assert_eq!(v["objective"], 70.0);
    assert_eq!(v["seed"], 1);
    assert_eq!(v["threads"], 2);
    assert!(v["bound"].is_null());
    for key in ["iterations", "elapsed", "time_to_best"] {
        assert!(v[key].is_number(), "{key}");
    }
    let sol = v["solution"].as_array().unwrap();
    assert_eq!(sol.len(), 24);
    assert!(sol.iter().all(|x| x == 1 || x == -1));
    assert_eq!(v["stats"]["vertices"], 24);
    assert_eq!(v["stats"]["file"], f.display().to_string());
}

#[test]
fn output_partition_file_matches_reported_cut() {
    let dir = tempfile::tempdir().unwrap();
    let part = dir.path().join("part.txt");
    let g = root("data/suites/maxcut_small/torus_6x6_pm1.txt");
    let out = run(&[
        "maxcut",
        g.to_str().unwrap(),
        "--max-rounds",
        "40",
        "--json",
        "-o",
        part.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(v["objective"], 24.0, "proven optimum of the 6x6 torus");
    let sides: Vec<i64> = std::fs::read_to_string(&part)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    let sol: Vec<i64> = v["solution"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect();
    assert_eq!(sides.len(), 36);
    assert!(sides.iter().zip(&sol).all(|(&s, &x)| (s == 1) == (x == 1)));
}

#[test]
fn malformed_input_exits_one_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, "3 2\n1 2 1\n2 x 1\n").unwrap();
    let out = run(&["maxcut", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let e = text(&out.stderr);
    assert!(e.contains("bad.txt:3: expected the second end"), "{e}");
    assert!(out.stdout.is_empty());
    let out = run(&["maxcut", dir.path().join("missing.txt").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("missing.txt"));
    // An unwritable output path is an error too, and nothing is left half-written.
    let f = root(SMALL);
    let out = run(&[
        "maxcut",
        f.to_str().unwrap(),
        "--max-rounds",
        "2",
        "-o",
        "/nonexistent-dir/p.txt",
    ]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn usage_errors_exit_two_and_help_exits_zero() {
    for args in [
        vec!["maxcut"],
        vec!["maxcut", "x.txt", "--bogus"],
        vec!["maxcut", "x.txt", "--time-limit", "soon"],
        vec!["nosuchproblem", "x.txt"],
        vec![],
    ] {
        let out = run(&args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let f = root(SMALL);
    let out = run(&["maxcut", f.to_str().unwrap(), "--time-limit", "-1"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("maxcut"));
    let out = run(&["maxcut", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("--time-limit"));
}

#[test]
fn same_seed_same_json_answer_across_thread_counts() {
    let g = root("data/suites/gset/G14.txt");
    let answer = |threads: &str| {
        let out = run(&[
            "maxcut",
            g.to_str().unwrap(),
            "--max-rounds",
            "4",
            "--threads",
            threads,
            "--json",
        ]);
        assert_eq!(out.status.code(), Some(0));
        let v: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
        (v["objective"].clone(), v["solution"].clone())
    };
    assert_eq!(answer("1"), answer("2"));
}

#[cfg(unix)]
#[test]
fn ctrl_c_returns_the_best_cut_with_status_interrupted() {
    let g = root("data/suites/gset/G14.txt");
    let child = solve()
        .args([
            "maxcut",
            g.to_str().unwrap(),
            "--time-limit",
            "120",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let ok = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(v["status"], "interrupted");
    // The best cut so far: a real cut of G14 (no quality asserted after a wall-clock stop).
    assert_eq!(v["solution"].as_array().unwrap().len(), 800);
    assert!(v["objective"].as_f64().unwrap() > 0.0);
    assert!(v["elapsed"].as_f64().unwrap() < 60.0);
}

#[cfg(unix)]
#[test]
fn closed_stdout_is_not_an_error() {
    let f = root(SMALL);
    let mut child = solve()
        .args(["maxcut", f.to_str().unwrap(), "--max-rounds", "3", "-q"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn maxsat_reports_cost_hard_clauses_and_writes_a_v_line() {
    let dir = tempfile::tempdir().unwrap();
    let sol = dir.path().join("sol.txt");
    let f = root("data/suites/maxsat/small/new_format/wpmaxsat_n50_h150_s250.wcnf");
    let out = run(&[
        "maxsat",
        f.to_str().unwrap(),
        "--target",
        "182",
        "-o",
        sol.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(
        s.contains("cost          182 (falsified soft weight)"),
        "{s}"
    );
    assert!(s.contains("hard clauses  yes, all 150 satisfied"), "{s}");
    assert!(s.contains("status        target reached"), "{s}");
    let file = std::fs::read_to_string(&sol).unwrap();
    assert!(file.contains("\ns SATISFIABLE\no 182\n"), "{file}");
    let v = file.lines().find(|l| l.starts_with("v ")).unwrap();
    assert_eq!(v.len(), 2 + 50);
    assert!(v[2..].chars().all(|c| c == '0' || c == '1'));

    // JSON, DIMACS-literal v line, and the old format of the same family.
    let f = root("data/suites/maxsat/small/pmax2sat_n120_h360_s120.wcnf");
    let out = run(&[
        "maxsat",
        f.to_str().unwrap(),
        "--target",
        "44",
        "--json",
        "--v-literals",
        "-o",
        sol.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(r["problem"], "maxsat");
    assert_eq!(r["objective"], 44.0);
    assert_eq!(r["stats"]["cost"], 44);
    assert_eq!(r["stats"]["satisfied_weight"], 120 - 44);
    assert_eq!(r["stats"]["hard_satisfied"], true);
    assert_eq!(r["stats"]["format"], "wcnf_old");
    let file = std::fs::read_to_string(&sol).unwrap();
    let v = file.lines().find(|l| l.starts_with("v ")).unwrap();
    let lits: Vec<i64> = v[2..].split(' ').map(|t| t.parse().unwrap()).collect();
    assert_eq!(lits.len(), 120);
    let x = r["solution"].as_array().unwrap();
    for (i, l) in lits.iter().enumerate() {
        assert_eq!(l.abs(), i as i64 + 1);
        assert_eq!(*l > 0, x[i] == 1);
    }
}

#[test]
fn maxsat_malformed_file_names_line() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.wcnf");
    std::fs::write(&f, "p wcnf 3 2 10\n10 1 -2 0\n3 2 x 0\n").unwrap();
    let out = run(&["maxsat", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let e = text(&out.stderr);
    assert!(e.contains("bad.wcnf:3: expected a literal"), "{e}");
    std::fs::write(&f, "p wcnf 3 1 10\n10 1 -2\n").unwrap();
    let e = text(&run(&["maxsat", f.to_str().unwrap()]).stderr);
    assert!(e.contains("bad.wcnf:2: clause does not end with 0"), "{e}");
}

#[test]
fn qubo_reports_the_value_in_the_problem_domain() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("q.bq");
    // min x'Qx: Q = [[-1, 2], [2, -1]] + x3 with Q33 = -2, Q13 = -1.
    // Enumeration: best is x = (1, 0, 1): -1 - 2 - 2 = -5.
    std::fs::write(&f, "# test\n3 5\n1 1 -1\n2 2 -1\n1 2 2\n3 3 -2\n1 3 -1\n").unwrap();
    let sol = dir.path().join("x.txt");
    let out = run(&[
        "qubo",
        f.to_str().unwrap(),
        "--max-rounds",
        "10",
        "--json",
        "-o",
        sol.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(r["problem"], "qubo");
    assert_eq!(r["objective"], -5.0);
    assert_eq!(r["sense"], "minimize");
    assert_eq!(r["solution"], serde_json::json!([1, 0, 1]));
    assert_eq!(std::fs::read_to_string(&sol).unwrap(), "1\n0\n1\n");
    // Spin form, maximised: s'Qs = -4 + 4 s1 s2 - 2 s1 s3, max 2 at s1 = s2 = -s3.
    let out = run(&[
        "qubo",
        f.to_str().unwrap(),
        "--max-rounds",
        "10",
        "--spin",
        "--maximize",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("objective     2\n"),
        "{}",
        text(&out.stdout)
    );
    std::fs::write(&f, "3 2\n1 1 -1\n1 4 1\n").unwrap();
    let out = run(&["qubo", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("q.bq:3: column index 4 out of range 1..=3"));
}

#[test]
fn mimo_generated_and_file_forms_agree() {
    let dir = tempfile::tempdir().unwrap();
    let inst = dir.path().join("inst.json");
    let sym = dir.path().join("x.txt");
    let out = run(&[
        "mimo",
        "--nt",
        "16",
        "--nr",
        "20",
        "--snr",
        "10",
        "--seed",
        "4",
        "--json",
        "--write-instance",
        inst.to_str().unwrap(),
        "-o",
        sym.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let a: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(a["problem"], "mimo");
    assert_eq!(a["stats"]["nt"], 16);
    assert_eq!(a["stats"]["nr"], 20);
    assert_eq!(a["solution"].as_array().unwrap().len(), 32);
    for key in ["ber", "mmse_ber", "truth_objective", "mmse_objective"] {
        assert!(a["stats"][key].is_number(), "{key}");
    }
    assert_eq!(std::fs::read_to_string(&sym).unwrap().lines().count(), 16);
    let out = run(&["mimo", inst.to_str().unwrap(), "--seed", "4", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let b: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(a["solution"], b["solution"]);
    assert_eq!(a["stats"]["ber"], b["stats"]["ber"]);

    // Several instances: mean BER in the summary.
    let out = run(&["mimo", "--nt", "8", "--snr", "20", "--instances", "3", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.contains("instances     3 (seeds 1..=3)"), "{s}");
    assert!(s.contains("BER           0.00000 (MMSE"), "{s}");

    // 16-QAM, saved and read back: symbols in {±1, ±3} + i{±1, ±3}.
    let out = run(&[
        "mimo",
        "--nt",
        "8",
        "--snr",
        "40",
        "--qam",
        "16",
        "--json",
        "--write-instance",
        inst.to_str().unwrap(),
        "-o",
        sym.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let q: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(q["stats"]["modulation"], "qam16");
    assert_eq!(q["stats"]["ber"], 0.0);
    assert_eq!(q["solution"].as_array().unwrap().len(), 32);
    let back = run(&["mimo", inst.to_str().unwrap(), "-q"]);
    assert!(
        text(&back.stdout).contains("16-QAM"),
        "{}",
        text(&back.stdout)
    );
    assert!(
        text(&back.stdout).contains("BER           0.00000"),
        "{}",
        text(&back.stdout)
    );
    for line in std::fs::read_to_string(&sym).unwrap().lines() {
        for v in line.split(' ') {
            assert!(["1", "-1", "3", "-3"].contains(&v), "{line}");
        }
    }
    let bad = run(&["mimo", "--nt", "8", "--snr", "10", "--qam", "8"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn mimo_usage_and_file_errors() {
    let out = run(&["mimo", "--nt", "8"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--snr"), "{}", text(&out.stderr));
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.json");
    std::fs::write(&f, "{\"nt\": 2,\n \"nr\": x}").unwrap();
    let out = run(&["mimo", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("bad.json:2:"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn ot_reports_cost_violation_and_writes_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.txt");
    let f = root("data/suites/ot/pc2d_euclid_n120_m80_nonuniform.txt");
    let out = run(&[
        "ot",
        f.to_str().unwrap(),
        "--reg",
        "0.1",
        "--tol",
        "1e-12",
        "--exact",
        "--json",
        "-o",
        plan.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(r["problem"], "ot");
    assert_eq!(r["status"], "converged");
    assert!(r["residuals"]["marginal_l1"].as_f64().unwrap() <= 1e-12);
    let tc = r["stats"]["transport_cost"].as_f64().unwrap();
    assert!((tc - 0.17724533121417105).abs() < 1e-9, "{tc}");
    assert!((r["stats"]["emd_cost"].as_f64().unwrap() - 0.0877503020461472).abs() < 1e-12);
    // The plan file: header, then entries whose sums are the marginals.
    let text_plan = std::fs::read_to_string(&plan).unwrap();
    let mut lines = text_plan.lines().filter(|l| !l.starts_with('#'));
    let head: Vec<usize> = lines
        .next()
        .unwrap()
        .split(' ')
        .map(|t| t.parse().unwrap())
        .collect();
    assert_eq!((head[0], head[1]), (120, 80));
    let mut mass = 0.0;
    let mut count = 0;
    for l in lines {
        let t: Vec<&str> = l.split(' ').collect();
        mass += t[2].parse::<f64>().unwrap();
        count += 1;
    }
    assert_eq!(count, head[2]);
    assert!((mass - 1.0).abs() < 1e-9, "{mass}");
    // Unequal masses: an error naming the file, or a warning with --normalize.
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, "1 2\n2\n0.5 0.5\n0 1\n").unwrap();
    let out = run(&["ot", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("bad.txt") && text(&out.stderr).contains("unequal masses"));
    let out = run(&["ot", bad.to_str().unwrap(), "--normalize", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("warning"));
}

#[test]
fn ot_point_clouds() {
    let dir = tempfile::tempdir().unwrap();
    let (s, t) = (dir.path().join("s.txt"), dir.path().join("t.txt"));
    // Two points each: moving (0,0)->(0,1) and (1,0)->(1,1) costs 1 per unit (squared distance).
    std::fs::write(&s, "# x y w\n0 0 0.5\n1 0 0.5\n").unwrap();
    std::fs::write(&t, "0 1 0.5\n1 1 0.5\n").unwrap();
    let out = run(&[
        "ot",
        "--source",
        s.to_str().unwrap(),
        "--target",
        t.to_str().unwrap(),
        "--reg",
        "0.01",
        "--tol",
        "1e-12",
        "--exact",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert!((r["stats"]["emd_cost"].as_f64().unwrap() - 1.0).abs() < 1e-12);
    let tc = r["stats"]["transport_cost"].as_f64().unwrap();
    assert!((1.0 - 1e-12..1.0 + 1e-6).contains(&tc), "{tc}");
    // Euclidean and l1 costs, unequal masses.
    std::fs::write(&t, "0 1 1\n1 1 1\n").unwrap();
    let bad = run(&[
        "ot",
        "--source",
        s.to_str().unwrap(),
        "--target",
        t.to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        text(&bad.stderr).contains("--normalize"),
        "{}",
        text(&bad.stderr)
    );
    let ok = run(&[
        "ot",
        "--source",
        s.to_str().unwrap(),
        "--target",
        t.to_str().unwrap(),
        "--normalize",
        "--cost",
        "lp:1",
        "--exact",
        "-q",
    ]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    assert!(
        text(&ok.stdout).contains("EMD cost      1.000000000000e0"),
        "{}",
        text(&ok.stdout)
    );
    let usage = run(&[
        "ot",
        "--source",
        s.to_str().unwrap(),
        "--target",
        t.to_str().unwrap(),
        "--cost",
        "cosine",
    ]);
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn ot_point_clouds_online_equal_the_dense_path() {
    let dir = tempfile::tempdir().unwrap();
    let (s, t) = (dir.path().join("s.txt"), dir.path().join("t.txt"));
    // 60 and 45 points on curves in the plane, unequal weights.
    let pts = |n: usize, phase: f64| -> String {
        (0..n)
            .map(|k| {
                let u = k as f64 / n as f64;
                let w = 1.0 + (3.0 * u + phase).sin().abs();
                format!("{} {} {w}\n", u, (5.0 * u + phase).cos())
            })
            .collect()
    };
    std::fs::write(&s, pts(60, 0.3)).unwrap();
    std::fs::write(&t, pts(45, 1.1)).unwrap();
    let plan = dir.path().join("plan.txt");
    let args = |online: bool| -> Vec<String> {
        let mut v: Vec<String> = [
            "ot",
            "--source",
            s.to_str().unwrap(),
            "--target",
            t.to_str().unwrap(),
            "--normalize",
            "--scale-cost",
            "--reg",
            "0.01",
            "--tol",
            "1e-10",
            "--json",
        ]
        .iter()
        .map(|a| a.to_string())
        .collect();
        if online {
            v.extend(["--online", "-o", plan.to_str().unwrap()].map(String::from));
        }
        v
    };
    let report = |online: bool| -> serde_json::Value {
        let a = args(online);
        let out = run(&a.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        serde_json::from_str(&text(&out.stdout)).unwrap()
    };
    let (dense, online) = (report(false), report(true));
    assert_eq!(online["algorithm"], "sns-online");
    for key in ["transport_cost", "dual_value", "wasserstein"] {
        let (a, b) = (
            dense["stats"][key].as_f64().unwrap(),
            online["stats"][key].as_f64().unwrap(),
        );
        assert!(
            (a - b).abs() <= 1e-9 * a.abs().max(1e-3),
            "{key}: {a} vs {b}"
        );
    }
    assert!(online["residuals"]["marginal_l1"].as_f64().unwrap() <= 1e-10);
    assert!(online["stats"]["certificate_pairs"].as_u64().unwrap() <= 60 * 45);
    // The plan file: its entries add up to the (unit) mass.
    let text_plan = std::fs::read_to_string(&plan).unwrap();
    let mass: f64 = text_plan
        .lines()
        .skip(2)
        .map(|l| l.split_whitespace().nth(2).unwrap().parse::<f64>().unwrap())
        .sum();
    assert!((mass - 1.0).abs() < 1e-9, "{mass}");
    let usage = run(&["ot", "data/ot/mix_12x12_k2_s1.txt", "--online"]);
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn ot_grid_histograms() {
    let dir = tempfile::tempdir().unwrap();
    let (s, t, plan) = (
        dir.path().join("s.csv"),
        dir.path().join("t.txt"),
        dir.path().join("plan.txt"),
    );
    // A 1 x 4 image (DOTmark-style CSV) against a `grid` file: all mass moves from cell 1 to
    // cell 4 of the unit interval (centres 1/8 and 7/8): W1 = 3/4, and 3 in pixel units.
    std::fs::write(&s, "1,0,0,0\n").unwrap();
    std::fs::write(&t, "# target\ngrid 4\n0 0 0 1\n").unwrap();
    let args = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "ot",
            "--source-grid",
            s.to_str().unwrap(),
            "--target-grid",
            t.to_str().unwrap(),
            "--cost",
            "euclidean",
            "--exact",
        ]
        .iter()
        .map(|x| x.to_string())
        .collect();
        v.extend(extra.iter().map(|x| x.to_string()));
        v
    };
    let a = args(&["--json", "-o", plan.to_str().unwrap()]);
    let out = run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(r["stats"]["wasserstein_kind"], "W1");
    assert!((r["stats"]["wasserstein_exact"].as_f64().unwrap() - 0.75).abs() < 1e-12);
    assert!((r["stats"]["wasserstein"].as_f64().unwrap() - 0.75).abs() < 1e-9);
    assert_eq!(
        (r["stats"]["n"].as_u64(), r["stats"]["m"].as_u64()),
        (Some(1), Some(1))
    );
    // The plan names grid cells (1-based, row-major), not rows of the reduced problem.
    let p = std::fs::read_to_string(&plan).unwrap();
    let last = p.lines().last().unwrap();
    assert!(last.starts_with("1 4 "), "{p}");
    let a = args(&["--cell-size", "1", "--scale-cost", "-q"]);
    let out = run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("W1            3.000000000000e0"),
        "{}",
        text(&out.stdout)
    );
    // Squared Euclidean: W2 = 3/4 as well (one atom moves as a whole).
    let mut a = args(&["--json"]);
    let k = a.iter().position(|x| x == "euclidean").unwrap();
    a[k] = "sqeuclidean".into();
    let out = run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(r["stats"]["wasserstein_kind"], "W2");
    assert!((r["stats"]["wasserstein_exact"].as_f64().unwrap() - 0.75).abs() < 1e-12);
    // Errors name the file and line.
    std::fs::write(&t, "grid 4\n0 0 1\n").unwrap();
    let a = args(&[]);
    let bad = run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        text(&bad.stderr).contains("t.txt:2: 3 weights, but a [4] grid has 4 cells"),
        "{}",
        text(&bad.stderr)
    );
    std::fs::write(&t, "grid 2 2\n0 0 0 1\n").unwrap();
    let bad = run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        text(&bad.stderr).contains("dimensional"),
        "{}",
        text(&bad.stderr)
    );
}

#[test]
fn maxcut_bound_and_sdp_warm_start() {
    let file = root("data/maxcut/torus_4x6_pm1_s2.txt");
    let optimal: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root("data/maxcut/optimal.json")).unwrap())
            .unwrap();
    let best = optimal["torus_4x6_pm1_s2"].as_f64().unwrap();
    let out = run(&[
        "maxcut",
        file.to_str().unwrap(),
        "--bound",
        "--init",
        "sdp",
        "--max-rounds",
        "5",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    let (cut, bound) = (
        r["objective"].as_f64().unwrap(),
        r["bound"].as_f64().unwrap(),
    );
    assert!(
        cut <= best && bound >= best,
        "cut {cut}, bound {bound}, optimum {best}"
    );
    assert!(
        r["stats"]["gw_cut"].as_f64().unwrap() <= cut,
        "MCPG starts from the GW cut"
    );
    assert!(r["residuals"]["sdp_relative_gap"].as_f64().unwrap() <= 1e-4);
    let human = run(&[
        "maxcut",
        file.to_str().unwrap(),
        "--bound",
        "--max-rounds",
        "2",
        "-q",
    ]);
    assert_eq!(human.status.code(), Some(0));
    let t = text(&human.stdout);
    assert!(
        t.contains("SDP bound") && t.contains("certified") && t.contains("GW cut"),
        "{t}"
    );
}

#[test]
fn sdp_sdpa_files() {
    let theta1 = root("data/suites/sdplib/theta1.dat-s");
    let out = run(&["sdp", theta1.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(r["status"], "converged");
    // SDPLIB lists theta1 = 23 (the Lovász theta number); our standard form is its negative.
    let v = r["stats"]["sdpa_primal_value"].as_f64().unwrap();
    assert!((v - 23.0).abs() <= 1e-4 * 23.0, "{v}");
    assert!((r["objective"].as_f64().unwrap() + v).abs() < 1e-12);
    // An infeasible problem is never reported as solved.
    if let Some(infp) = shared("sdplib/infp1.dat-s", "the infeasible SDPLIB problem infp1") {
        let out = run(&["sdp", infp.to_str().unwrap(), "--max-iter", "30", "-q"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(
            !text(&out.stdout).contains("converged"),
            "{}",
            text(&out.stdout)
        );
    }
    // Malformed input names the file and line.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.dat-s");
    std::fs::write(&bad, "1\n1\n2\n1.0\n0 1 1 3 1.0\n").unwrap();
    let out = run(&["sdp", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("bad.dat-s:5: entry (1, 3) outside block 1 of size 2"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn sdp_maxcut_memory_efficient_mode() {
    let file = root("data/maxcut/torus_4x6_pm1_s2.txt");
    let optimal: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root("data/maxcut/optimal.json")).unwrap())
            .unwrap();
    let best = optimal["torus_4x6_pm1_s2"].as_f64().unwrap();
    let out = run(&[
        "sdp",
        file.to_str().unwrap(),
        "--maxcut",
        "--memory-efficient",
        "--sketch-rank",
        "6",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(r["status"], "converged");
    assert_eq!(r["stats"]["storage"], "nystrom-sketch");
    assert_eq!(r["solution"]["rank"], 6);
    let (lower, upper) = (
        r["objective"].as_f64().unwrap(),
        r["bound"].as_f64().unwrap(),
    );
    assert!(upper >= best && lower <= upper && (upper - lower) <= 1e-2 * upper);
    assert!(r["solution"]["cut_value"].as_f64().unwrap() <= best);
    // --sketch-rank needs --memory-efficient.
    let bad = run(&[
        "sdp",
        file.to_str().unwrap(),
        "--maxcut",
        "--sketch-rank",
        "6",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    // MOCO with momentum and the degree preconditioner: the same certified sandwich.
    let out = run(&[
        "sdp",
        file.to_str().unwrap(),
        "--maxcut",
        "--memory-efficient",
        "--sketch-method",
        "moco",
        "--momentum",
        "--precondition",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(r["algorithm"], "sketch-moco-sdp");
    assert_eq!(r["status"], "converged");
    let (lower, upper) = (
        r["objective"].as_f64().unwrap(),
        r["bound"].as_f64().unwrap(),
    );
    assert!(upper >= best && lower <= upper && (upper - lower) <= 1e-2 * upper);
    // Momentum belongs to MOCO: with CGAL it is refused, naming the setting.
    let bad = run(&[
        "sdp",
        file.to_str().unwrap(),
        "--maxcut",
        "--memory-efficient",
        "--momentum",
    ]);
    assert_ne!(bad.status.code(), Some(0));
    assert!(
        text(&bad.stderr).contains("momentum"),
        "{}",
        text(&bad.stderr)
    );
}

#[test]
fn nlp_hock_schittkowski_problems() {
    let set = root("data/suites/nlp/hs_equality.json");
    let set = set.to_str().unwrap();
    let out = run(&["nlp", set, "--list"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).lines().count(), 19);
    assert!(text(&out.stdout).contains("HS28"));
    for (kkt, tol) in [("direct", "1e-8"), ("sketch", "1e-6")] {
        let out = run(&[
            "nlp",
            set,
            "--problem",
            "hs78",
            "--kkt",
            kkt,
            "--tol",
            tol,
            "--json",
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let r: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
        assert_eq!(r["status"], "converged", "{kkt}");
        let f = r["objective"].as_f64().unwrap();
        assert!((f + 2.91970041).abs() <= 1e-6 * 2.92, "{kkt}: {f}");
        assert!(r["residuals"]["kkt"].as_f64().unwrap() <= tol.parse::<f64>().unwrap());
        assert_eq!(r["solution"]["x"].as_array().unwrap().len(), 5);
    }
    let bad = run(&["nlp", set, "--problem", "hs999"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("no problem named 'hs999'"));
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("mine.json");
    std::fs::write(&f, "{\"problems\": [\n{\"name\": \"P\", \"n\": 2, \"m\": 1,\n\"objective\": \"x1^2 + x2^2\", \"constraints\": [\"x1 + x2 - 1\"],\n\"x0\": [0, 0], \"f_star\": 0.5, \"x_star\": [0.5, 0.5]}]}").unwrap();
    let out = run(&["nlp", f.to_str().unwrap(), "--problem", "p", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("5.0000000000e-1"));
    std::fs::write(&f, "{\"problems\": [\n{\"name\": \"P\", \"n\": 2, \"m\": 1,\n\"objective\": \"x1^ * x2\", \"constraints\": [\"x1\"],\n\"x0\": [0, 0], \"f_star\": 0, \"x_star\": [0, 0]}]}").unwrap();
    let out = run(&["nlp", f.to_str().unwrap(), "--problem", "p"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("mine.json:2: P: objective: column 5"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn nlp_pde_control() {
    let out = run(&["nlp", "--pde-control", "12", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(r["status"], "converged");
    assert_eq!(r["iterations"], 1);
    assert!(r["residuals"]["kkt"].as_f64().unwrap() <= 1e-8);
    assert_eq!(r["solution"]["x"].as_array().unwrap().len(), 288);
    let bad = run(&["nlp", "--pde-control", "12", "--problem", "hs28"]);
    assert_eq!(bad.status.code(), Some(2));
    let zero = run(&["nlp", "--pde-control", "0"]);
    assert_eq!(zero.status.code(), Some(2));
}

#[test]
fn nlp_logistic_regression_on_libsvm_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.libsvm");
    // 40 samples in 6 dimensions, labels from a fixed rule with some noise.
    let mut file = String::new();
    for k in 0..40 {
        let x: Vec<f64> = (0..6)
            .map(|j| ((k * 7 + j * 13) % 11) as f64 / 5.0 - 1.0)
            .collect();
        let s = x[0] - 0.5 * x[1] + 0.3 * x[4] + if k % 9 == 0 { 2.0 } else { 0.0 };
        file.push_str(if s > 0.0 { "+1" } else { "-1" });
        for (j, v) in x.iter().enumerate() {
            if *v != 0.0 {
                file.push_str(&format!(" {}:{v}", j + 1));
            }
        }
        file.push('\n');
    }
    std::fs::write(&path, file).unwrap();
    let p = path.to_str().unwrap();
    for extra in [&[][..], &["--sphere"][..], &["--kkt", "direct"][..]] {
        let mut args = vec!["nlp", "--logreg", p, "--constraints", "2", "--json"];
        args.extend_from_slice(extra);
        let out = run(&args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let r: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
        assert_eq!(r["status"], "converged", "{extra:?}");
        assert!(r["residuals"]["kkt"].as_f64().unwrap() <= 1e-8);
        let m = if extra == ["--sphere"] { 3 } else { 2 };
        assert_eq!(r["solution"]["lambda"].as_array().unwrap().len(), m);
    }
    let out = run(&["nlp", "--logreg-random", "50", "--constraints", "3"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("converged"));
    // A malformed file names the line.
    std::fs::write(&path, "+1 1:0.5\n-1 2:abc\n").unwrap();
    let out = run(&["nlp", "--logreg", p]);
    assert_ne!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains(":2"), "{}", text(&out.stderr));
}

#[test]
fn game_from_file_and_generated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rps.txt");
    std::fs::write(
        &path,
        "# rock paper scissors, shifted by 2\n3 3\n2 1 3\n3 2 1\n1 3 2\n",
    )
    .unwrap();
    let out_file = dir.path().join("strategies.json");
    let out = run(&[
        "game",
        path.to_str().unwrap(),
        "--gap",
        "1e-9",
        "--json",
        "-o",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(r["status"], "converged");
    assert!(r["residuals"]["gap"].as_f64().unwrap() <= 1e-9);
    assert!((r["objective"].as_f64().unwrap() - 2.0).abs() <= 1e-9);
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap()).unwrap();
    for p in s["x"].as_array().unwrap() {
        assert!((p.as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-8);
    }
    let out = run(&[
        "game",
        "--generate",
        "gaussian",
        "--size",
        "30",
        "--method",
        "eg",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("converged"));
    std::fs::write(&path, "2 2\n1 2\n3 nope\n").unwrap();
    let out = run(&["game", path.to_str().unwrap()]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        text(&out.stderr).contains("rps.txt:3"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn bilevel_problems_from_the_cli() {
    // Quadratic: JSON report, converged, x within the penalty's O(sigma) bias.
    let out = run(&["bilevel", "quadratic", "--sigma", "1e-3", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(r["status"], "converged");
    assert!(r["residuals"]["stationarity"].as_f64().unwrap() <= 1e-6);
    assert_eq!(r["solution"]["x"].as_array().unwrap().len(), 5);
    // Ridge from LIBSVM files (the CLI's file path), penalty and AID agree on lambda.
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, rows: &[(f64, [f64; 3])]| {
        let p = dir.path().join(name);
        let body: String = rows
            .iter()
            .map(|(y, x)| format!("{y} 1:{} 2:{} 3:{}\n", x[0], x[1], x[2]))
            .collect();
        std::fs::write(&p, body).unwrap();
        p
    };
    let sample = |k: usize| {
        let x = [
            ((k * 7 % 11) as f64 - 5.0) / 3.0,
            ((k * 5 % 13) as f64 - 6.0) / 4.0,
            ((k * 3 % 7) as f64 - 3.0) / 2.0,
        ];
        let noise = ((k * 17 % 19) as f64 - 9.0) / 6.0;
        (x[0] - 0.5 * x[1] + noise, x)
    };
    let train: Vec<_> = (0..30).map(sample).collect();
    let val: Vec<_> = (30..60).map(sample).collect();
    let (tr, va) = (write("train.svm", &train), write("val.svm", &val));
    let mut lambdas = Vec::new();
    for method in ["penalty", "aid"] {
        let out = run(&[
            "bilevel",
            "ridge",
            "--train",
            tr.to_str().unwrap(),
            "--val",
            va.to_str().unwrap(),
            "--method",
            method,
            "--sigma",
            "1e-4",
            "--json",
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let r: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
        lambdas.push(r["solution"]["x"][0].as_f64().unwrap());
    }
    assert!((lambdas[0] - lambdas[1]).abs() < 0.05, "{lambdas:?}");
    // A malformed training file names the file and line.
    let bad = dir.path().join("bad.svm");
    std::fs::write(&bad, "1 1:0.5\n1 x:2\n").unwrap();
    let out = run(&[
        "bilevel",
        "ridge",
        "--train",
        bad.to_str().unwrap(),
        "--val",
        va.to_str().unwrap(),
    ]);
    assert_ne!(out.status.code(), Some(0));
    let err = text(&out.stderr);
    assert!(err.contains("bad.svm") && err.contains(":2"), "{err}");
    // Hyper-cleaning from LIBSVM files (binary labels; one flipped training label).
    let lin = |k: usize| {
        let x = [
            ((k * 7 % 11) as f64 - 5.0) / 3.0,
            ((k * 5 % 13) as f64 - 6.0) / 4.0,
            0.5,
        ];
        let y = if x[0] - x[1] >= 0.0 { 1.0 } else { -1.0 };
        (y, x)
    };
    let mut htrain: Vec<_> = (0..40).map(lin).collect();
    htrain[3].0 = -htrain[3].0;
    let hval: Vec<_> = (40..70).map(lin).collect();
    let htest: Vec<_> = (70..120).map(lin).collect();
    let (htr, hva, hte) = (
        write("htrain.svm", &htrain),
        write("hval.svm", &hval),
        write("htest.svm", &htest),
    );
    let out = run(&[
        "bilevel",
        "hyperclean",
        "--train",
        htr.to_str().unwrap(),
        "--val",
        hva.to_str().unwrap(),
        "--test",
        hte.to_str().unwrap(),
        "--time-limit",
        "20",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let human = text(&out.stdout);
    assert!(
        human.contains("test accuracy") && human.contains("of 40"),
        "{human}"
    );
    // The single-loop method on the non-unique toy reaches x = 1.
    let out = run(&[
        "bilevel",
        "nonunique",
        "--method",
        "stochastic",
        "--sigma",
        "0.1",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    for v in r["solution"]["x"].as_array().unwrap() {
        assert!((v.as_f64().unwrap() - 1.0).abs() < 1e-5);
    }
    // AID is undefined on the non-unique lower level: a clear error, not a panic.
    let out = run(&["bilevel", "--problem", "nonunique", "--method", "aid"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("Hessian"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn backend_flag_auto_falls_back_and_cuda_fails_clearly_without_a_gpu() {
    let f = root("data/suites/ot/pc2d_sqeuclid_n50.txt");
    let f = f.to_str().unwrap();
    let why = mathprog_solvers::linalg::backend::gpu_unavailable_reason();
    // Human summary: a `backend` line when auto could not use a GPU (or did).
    let out = run(&["ot", f, "--backend", "auto", "--threads", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    let line = s
        .lines()
        .find(|l| l.starts_with("backend"))
        .unwrap_or_else(|| panic!("no backend line in\n{s}"));
    // JSON report.
    let out = run(&["ot", f, "--backend", "auto", "--json"]);
    let r: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    match &why {
        Some(reason) => {
            assert!(
                line.contains("cpu") && line.contains("ran on the CPU"),
                "{line}"
            );
            assert_eq!(r["backend"]["name"], "cpu");
            assert!(
                r["backend"]["note"]
                    .as_str()
                    .unwrap()
                    .contains(reason.as_str())
            );
            // An explicit request is an error that says why (exit 1), and so is bench-gpu.
            let out = run(&["ot", f, "--backend", "cuda"]);
            assert_eq!(out.status.code(), Some(1));
            assert!(
                text(&out.stderr).contains(reason.as_str()),
                "{}",
                text(&out.stderr)
            );
            let out = run(&["bench-gpu", "--scale", "test"]);
            assert_eq!(out.status.code(), Some(1));
            assert!(
                text(&out.stderr).contains("bench-gpu"),
                "{}",
                text(&out.stderr)
            );
        }
        None => {
            assert!(line.contains("cuda"), "{line}");
            assert_eq!(r["backend"]["name"], "cuda");
            let out = run(&["bench-gpu", "--scale", "test", "--repeats", "1"]);
            assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        }
    }
    // Methods without GPU kernels say so when asked for one.
    let out = run(&[
        "game",
        "--generate",
        "uniform",
        "--size",
        "20",
        "--backend",
        "auto",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(r["backend"]["name"], "cpu");
    assert!(r["backend"]["note"].as_str().is_some());
    // A bad value is a usage error.
    let out = run(&["ot", f, "--backend", "tpu"]);
    assert_eq!(out.status.code(), Some(2));
}

/// `solve sdp --method`: the automatic choice is reported; an infeasible SDPA file gets its
/// status in SDPA's naming with a certificate (exit 0: an answer), whatever path was asked.
#[test]
fn sdp_methods_and_infeasibility() {
    let theta = root("data/suites/sdplib/theta1.dat-s");
    let theta = theta.to_str().unwrap();
    for (method, name) in [
        ("auto", "ipm-hkm"),
        ("ipm", "ipm-hkm"),
        ("low-rank", "alm-cd"),
    ] {
        let out = run(&["sdp", theta, "--method", method, "--json"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{method}: {}",
            text(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["stats"]["method"], name, "{method}");
        assert_eq!(v["status"], "converged", "{method}");
        assert!(v["stats"]["choice"].is_string());
    }
    // SDPA dual `max <F0,Y> s.t. <I, Y> = -1, Y PSD` has no feasible point.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("inf.dat-s");
    std::fs::write(&f, "1\n1\n2\n-1\n0 1 1 1 1\n1 1 1 1 1\n1 1 2 2 1\n").unwrap();
    let out = run(&["sdp", f.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "dual_infeasible");
    assert!(v["stats"]["certificate_residual"].as_f64().unwrap() <= 1e-6);
    let out = run(&["sdp", f.to_str().unwrap()]);
    assert!(
        text(&out.stdout).contains("dual infeasible"),
        "{}",
        text(&out.stdout)
    );
    let out = run(&["sdp", theta, "--method", "simplex"]);
    assert_eq!(out.status.code(), Some(2));
    // The interior point in double-double: the same optimum (23), said in the JSON and the
    // summary; an unknown precision is a usage error.
    let out = run(&["sdp", theta, "--precision", "double-double", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "converged");
    assert_eq!(v["stats"]["precision"], "double-double");
    assert!((v["stats"]["sdpa_primal_value"].as_f64().unwrap() - 23.0).abs() < 1e-5);
    let out = run(&["sdp", theta, "--precision", "double-double"]);
    assert!(
        text(&out.stdout).contains("double-double"),
        "{}",
        text(&out.stdout)
    );
    let out = run(&["sdp", theta, "--precision", "quad"]);
    assert_eq!(out.status.code(), Some(2));
}
