//! Hostile inputs (the reproducers of `../shared/research/fuzz_findings.md` that this release
//! fixes): sizes near the address space, sizes beyond the memory budget, wrapped products, too
//! much soft weight, absurd time limits, negative numbers, output paths. Each must end with a
//! clean error (exit 1, or 2 for usage) or a correct answer, never a panic (101) or an abort.

use std::path::Path;
use std::process::{Command, Output};

fn solve(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_solve"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        // A budget of 1 GiB, so that "too big for memory" does not depend on the machine.
        .env("MATHPROG_MAX_MEMORY", "1G")
        .args(args)
        .output()
        .expect("run solve")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Write `content` to a file named `name` in a fresh folder; returns the folder and the path.
fn file(name: &str, content: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    std::fs::write(&p, content).unwrap();
    let s = p.to_str().unwrap().to_string();
    (dir, s)
}

/// A clean error: exit 1 and a message naming the file.
fn clean_error(out: &Output, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(1),
        "{what}: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).starts_with("error:"),
        "{what}: {}",
        text(&out.stderr)
    );
}

#[test]
fn header_sizes_near_the_address_space_are_errors() {
    let cases: &[(&str, &str, &[&str])] = &[
        ("a.txt", "9223372036854775808 0\n", &["maxcut"]),
        ("a.bq", "9223372036854775808 0\n", &["qubo"]),
        ("ot.txt", "9223372036854775808 1\n", &["ot"]),
        ("g.txt", "9223372036854775808 1\n", &["game"]),
        ("w.txt", "4294967296 4294967296\n", &["game"]),
        ("s.dat-s", "1\n9223372036854775807\n2\n", &["sdp"]),
        ("b.dat-s", "1\n1\n-9223372036854775808\n1.0\n", &["sdp"]),
        ("big.txt", "1000000000 1\n1 2 1\n", &["maxcut"]),
        ("big.cnf", "p cnf 2000000000 1\n1 0\n", &["maxsat"]),
        ("big.dat-s", "1000000000\n1\n2\n", &["sdp"]),
        ("hdr.txt", "50000 50000\n", &["game"]),
    ];
    for (name, content, cmd) in cases {
        let (_d, path) = file(name, content);
        let mut args: Vec<&str> = cmd.to_vec();
        args.push(&path);
        args.extend(["--time-limit", "1"]);
        let out = solve(&args);
        clean_error(&out, &format!("{cmd:?} {content:?}"));
        assert!(text(&out.stderr).contains(name), "{}", text(&out.stderr));
    }
    let (_d, grid) = file("g.txt", "grid 3 18446744073709551615\n");
    let out = solve(&["ot", "--source-grid", &grid, "--target-grid", &grid]);
    clean_error(&out, "grid");
    let (_d, svm) = file("x.svm", "1 18446744073709551615:1\n-1 1:1\n");
    let out = solve(&["nlp", "--logreg", &svm]);
    clean_error(&out, "libsvm index");
    assert!(
        text(&out.stderr).contains("x.svm:1"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn generated_sizes_beyond_memory_are_errors() {
    for args in [
        &["mimo", "--nt", "4611686018427387904", "--snr", "10"][..],
        &["mimo", "--nt", "100000", "--snr", "10"],
        &["game", "--generate", "gaussian", "--size", "4294967296"],
        &["game", "--generate", "uniform", "--size", "100000"],
        &["nlp", "--pde-control", "4294967296"],
        &["nlp", "--pde-control", "100000"],
        &["bilevel", "hyperclean", "--dim", "4611686018427387904"],
        &["bilevel", "quadratic", "--size", "1000000000"],
        &["nlp", "--logreg-random", "3000000000"],
        &[
            "maxcut",
            "data/maxcut/torus_4x6_pm1_s2.txt",
            "--groups",
            "1000000000",
        ],
    ] {
        let out = solve(args);
        assert!(
            matches!(out.status.code(), Some(1) | Some(2)),
            "{args:?}: {:?} {}",
            out.status.code(),
            text(&out.stderr)
        );
        assert!(text(&out.stderr).contains("error"), "{args:?}");
    }
}

#[test]
fn too_much_soft_weight_is_an_error() {
    let (_d, path) = file(
        "a.wcnf",
        "18446744073709551615 1 0\n18446744073709551615 -1 0\n",
    );
    let out = solve(&["maxsat", &path]);
    clean_error(&out, "soft weight sum");
    assert!(
        text(&out.stderr).contains("soft weight"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn huge_batches_are_capped_by_the_samples() {
    let out = solve(&[
        "bilevel",
        "nonunique",
        "--method",
        "stochastic",
        "--batch",
        "1000000000",
        "--sigma",
        "0.1",
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn absurd_time_limits_mean_no_limit() {
    for t in ["1e19", "1e20", "1e300"] {
        let out = solve(&[
            "maxcut",
            "data/maxcut/torus_4x6_pm1_s2.txt",
            "--time-limit",
            t,
            "--max-rounds",
            "3",
            "-q",
        ]);
        assert_eq!(out.status.code(), Some(0), "{t}: {}", text(&out.stderr));
        let out = solve(&[
            "ot",
            "data/suites/ot/pc2d_sqeuclid_n50.txt",
            "--time-limit",
            t,
            "--reg",
            "0.1",
            "-q",
        ]);
        assert_eq!(out.status.code(), Some(0), "{t}: {}", text(&out.stderr));
    }
}

#[test]
fn negative_numbers_are_values() {
    // A negative SNR is a valid channel; a negative regularisation is a usage error that
    // names the flag (not clap's `-- -1` tip).
    let out = solve(&["mimo", "--nt", "8", "--snr", "-2", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = solve(&["ot", "data/suites/ot/pc2d_sqeuclid_n50.txt", "--reg", "-1"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("'--reg <R>': must be a finite number > 0, got -1")
            && !err.contains("'-- -1'"),
        "{err}"
    );
}

#[test]
fn bad_flag_values_name_the_flag() {
    let cases: [&[&str]; 8] = [
        &["nlp", "--problem", "hs6", "--tol", "0"],
        &["bilevel", "ridge", "--sigma", "0"],
        &[
            "game",
            "--generate",
            "uniform",
            "--size",
            "10",
            "--step-scale",
            "0",
        ],
        &[
            "maxcut",
            "data/maxcut/torus_4x6_pm1_s2.txt",
            "--groups",
            "0",
        ],
        &[
            "maxcut",
            "data/maxcut/torus_4x6_pm1_s2.txt",
            "--beta-start",
            "nan",
        ],
        &[
            "ot",
            "data/suites/ot/pc2d_sqeuclid_n50.txt",
            "--switch-violation",
            "nan",
        ],
        &[
            "ot",
            "data/suites/ot/pc2d_sqeuclid_n50.txt",
            "--plan-threshold",
            "nan",
        ],
        &["maxsat", "data/suites/maxsat/x.cnf", "--target", "-inf"],
    ];
    for args in cases {
        let out = solve(args);
        let err = text(&out.stderr);
        let flag = args[args.len() - 2];
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(&format!("'{flag} <")), "{args:?}: {err}");
    }
}

#[test]
fn outputs_are_checked_first_written_for_sdp_and_through_symlinks() {
    // A bad output path fails before the solve, naming the path.
    let out = solve(&[
        "maxcut",
        "data/maxcut/torus_4x6_pm1_s2.txt",
        "--max-rounds",
        "2",
        "-o",
        "/nonexistent-folder/part.txt",
    ]);
    clean_error(&out, "bad -o");
    assert!(text(&out.stderr).contains("/nonexistent-folder/part.txt"));
    assert!(
        text(&out.stdout).is_empty(),
        "no solve ran: {}",
        text(&out.stdout)
    );
    // `solve sdp FILE.dat-s -o X` writes the solution.
    let dir = tempfile::tempdir().unwrap();
    let sol = dir.path().join("theta1.json");
    let out = solve(&[
        "sdp",
        "data/suites/sdplib/theta1.dat-s",
        "-q",
        "-o",
        sol.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sol).unwrap()).unwrap();
    assert_eq!(v["y"].as_array().unwrap().len(), 104);
    // Through a symlink: the target is written and the link stays a link.
    #[cfg(unix)]
    {
        let target = dir.path().join("target.txt");
        std::fs::write(&target, "old").unwrap();
        let link = dir.path().join("link.txt");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let out = solve(&[
            "maxcut",
            "data/maxcut/torus_4x6_pm1_s2.txt",
            "--max-rounds",
            "2",
            "-q",
            "-o",
            link.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(
            std::fs::read_to_string(&target).unwrap().lines().count(),
            24
        );
    }
}

#[cfg(unix)]
#[test]
fn qubo_reads_its_input_once() {
    // From a pipe (stdin): one read of the input.
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_solve"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .args(["qubo", "/dev/stdin", "--max-rounds", "3", "-q"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let data = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/qubo/rand_n20_d50_s1.bq"),
    )
    .unwrap();
    child.stdin.take().unwrap().write_all(&data).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("objective"));
}

/// Flags that make one chain, filter or rounding loop enormous: `--time-limit` still ends the
/// run with an answer (liveness only: the bound is generous, timing is measured in benchmarks).
#[test]
fn enormous_inner_loops_honour_the_time_limit() {
    let g = "data/maxcut/torus_4x6_pm1_s2.txt";
    let cases: &[&[&str]] = &[
        &["maxcut", g, "--accept-fraction", "1e9"],
        &[
            "maxcut",
            g,
            "--filter",
            "greedy",
            "--sweeps",
            "1000000000000",
        ],
        &[
            "maxcut",
            g,
            "--filter",
            "tabu",
            "--moves",
            "1000000000000",
            "--patience",
            "1000000000000",
        ],
        &["maxcut", g, "--sweeps", "1000000000"],
        &[
            "qubo",
            "data/qubo/rand_n20_d50_s1.bq",
            "--accept-fraction",
            "1e9",
        ],
        &["sdp", "--maxcut", g, "--gw-trials", "1000000000000"],
    ];
    for args in cases {
        let t = std::time::Instant::now();
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--time-limit", "0.5", "--threads", "1", "--json"]);
        let out = solve(&all);
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(secs < 15.0, "{args:?} took {secs} s for a 0.5 s limit");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            v["objective"].as_f64().is_some_and(f64::is_finite),
            "{args:?}"
        );
    }
}

/// Invalid UTF-8 names the file and the line in every text format.
#[test]
fn invalid_utf8_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &[u8], &[&str])] = &[
        ("g.txt", b"2 2\n1 2\n\xfe 4\n", &["game"]),
        ("p.json", b"{\"problems\": [\n\xff]}", &["nlp", "--list"]),
        ("d.svm", b"1 1:1\n-1 1:\xff\n", &["nlp", "--logreg"]),
        ("m.json", b"{\n\xff}", &["mimo"]),
    ];
    for (name, bytes, cmd) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let mut args: Vec<&str> = cmd.to_vec();
        args.insert(1, p.to_str().unwrap());
        if cmd[0] == "nlp" && cmd[1] == "--logreg" {
            args = vec!["nlp", "--logreg", p.to_str().unwrap()];
        }
        let out = solve(&args);
        clean_error(&out, name);
        let err = text(&out.stderr);
        let line = if *name == "g.txt" { 3 } else { 2 };
        assert!(
            err.contains(&format!("{name}:{line}: invalid UTF-8")),
            "{err}"
        );
    }
}

/// `--max-memory` sets the budget (the flag wins over the environment).
#[test]
fn max_memory_flag_sets_the_budget() {
    let (_d, path) = file("big.txt", "3000000 1\n1 2 1\n");
    // 3e6 vertices fit 1 GiB (the environment of these tests) but not 16 MiB.
    let out = solve(&["maxcut", &path, "--max-memory", "16M", "--max-rounds", "1"]);
    clean_error(&out, "--max-memory 16M");
    assert!(
        text(&out.stderr).contains("16.0 MiB"),
        "{}",
        text(&out.stderr)
    );
    let out = solve(&["maxcut", &path, "--max-memory", "5", "--max-rounds", "1"]);
    assert_eq!(out.status.code(), Some(2));
}

/// A QUBO with a wide dynamic range: the exact value is reported, the self-check does not fire.
#[test]
fn wide_dynamic_range_qubo_reports_the_exact_value() {
    let (_d, path) = file("q.bq", "2 2\n1 2 1e17\n1 1 -1\n");
    let out = solve(&["qubo", &path, "--max-rounds", "5", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["objective"], -1.0,
        "the optimum of min x1 x2 1e17 - x1^2 over {{0,1}}^2"
    );
}

/// Bad data in input files exits 1 (not 2, which is for usage errors).
#[test]
fn data_errors_exit_one() {
    // Hyper-cleaning needs binary labels; these are 0, 1 and 2.
    let (_d, tr) = file("tr.svm", "0 1:1\n1 1:2\n2 1:3\n");
    let (_e, va) = file("va.svm", "1 1:1\n-1 1:2\n");
    let out = solve(&["bilevel", "hyperclean", "--train", &tr, "--val", &va]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
}

/// Finite but extreme data: a clean error naming the scale (exit 1), or a finite answer;
/// never `inf`/`null` with exit 0 (W4).
#[test]
fn extreme_finite_data_is_an_error_or_a_finite_answer() {
    let errors: [(&str, &str, &str, &str); 6] = [
        ("maxcut", "g.txt", "3 2\n1 2 1e308\n2 3 1e308\n", "rescale"),
        ("qubo", "q.bq", "2 2\n1 2 1e308\n1 1 -1e308\n", "rescale"),
        (
            "ot",
            "o.txt",
            "2 2\n1e308 1e308\n1e308 1e308\n0 1\n1 0\n",
            "total mass",
        ),
        (
            "ot",
            "o.txt",
            "2 2\n0.5 0.5\n0.5 0.5\n0 -1e308\n1 0\n",
            "rescale the costs",
        ),
        (
            "mimo",
            "m.json",
            r#"{"nt":1,"nr":1,"h":[[1e200,0]],"y":[[1,0]],"noise_var":0.1}"#,
            "rescale y and H",
        ),
        (
            "ot",
            "u.txt",
            "2 2\n0.5 0.5\n0.4 0.4\n0 1\n1 0\n",
            "--normalize",
        ),
    ];
    for (cmd, name, content, message) in errors {
        let (_d, f) = file(name, content);
        let out = solve(&[cmd, &f, "-q", "--max-rounds", "2"]);
        let out = if text(&out.stderr).contains("unexpected argument") {
            solve(&[cmd, &f, "-q"])
        } else {
            out
        };
        clean_error(&out, cmd);
        assert!(
            text(&out.stderr).contains(message),
            "{cmd}: {}",
            text(&out.stderr)
        );
    }
    // --reg 1e308 overflows the entropy term.
    let (_d, f) = file("o.txt", "2 2\n0.5 0.5\n0.5 0.5\n0 1\n1 0\n");
    let out = solve(&["ot", &f, "--reg", "1e308"]);
    clean_error(&out, "ot --reg 1e308");
    // A zero-mass point gets a finite potential (its plan row stays zero).
    let (_d, f) = file("z.txt", "2 2\n1 0\n0.5 0.5\n0 1\n1 0\n");
    let out = solve(&["ot", &f, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f_pot = v["solution"]["f"].as_array().unwrap();
    assert!(f_pot.iter().all(|x| x.is_f64()), "{f_pot:?}");
    // A zero channel without noise: MMSE still answers.
    let (_d, f) = file(
        "m.json",
        r#"{"nt":2,"nr":1,"h":[[0,0],[0,0]],"y":[[1,0]],"noise_var":0}"#,
    );
    let out = solve(&["mimo", &f, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["objective"].is_f64());
    // A numerical breakdown is exit 1 with the report printed (nlp: log of a negative number
    // at the start).
    let (_d, f) = file(
        "h.json",
        r#"{"problems":[{"name":"t","n":1,"m":1,"objective":"log(x1)","constraints":["x1 + 1"],"x0":[-1],"f_star":0,"x_star":[0]}]}"#,
    );
    let out = solve(&["nlp", &f, "--problem", "t", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("numerical"),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("numerical_error"));
}
