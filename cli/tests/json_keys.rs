//! The `--json` report of every command keeps its keys: one run per command (and per method where
//! the report differs) against `cli/tests/json_keys.txt`, recorded from the reports as they were
//! before the typed-results redesign. Keys may be added, never dropped or renamed.
//!
//! Record again (after adding a run or a deliberate key) with
//! `MATHPROG_RECORD_KEYS=1 cargo test -p mathprog-cli --test json_keys`.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// The runs, by name; arguments are relative to the repository root (all instances committed or
/// generated, no `../shared`). Small budgets: only the keys matter here.
const RUNS: &[(&str, &str)] = &[
    (
        "maxcut",
        "maxcut data/maxcut/er_n24_p30_unit_s3.txt --max-rounds 2",
    ),
    (
        "maxcut_bound_sdp_init",
        "maxcut data/maxcut/er_n24_p30_unit_s3.txt --max-rounds 2 --bound --init sdp",
    ),
    (
        "maxsat",
        "maxsat data/maxsat/wpms_n20_h40_s80_s1.wcnf --max-rounds 2",
    ),
    ("qubo", "qubo data/qubo/rand_n20_d50_s1.bq --max-rounds 2"),
    ("mimo", "mimo --nt 8 --nr 8 --snr 10 --max-rounds 2"),
    (
        "mimo_instances",
        "mimo --nt 8 --nr 8 --snr 10 --max-rounds 2 --instances 2",
    ),
    (
        "ot_sns",
        "ot data/suites/ot/pc2d_sqeuclid_n50.txt --reg 0.1 --exact",
    ),
    (
        "ot_sinkhorn",
        "ot data/suites/ot/pc2d_sqeuclid_n50.txt --reg 0.1 --method sinkhorn",
    ),
    (
        "ot_online",
        "ot --source data/ot/pc2d_clustered_n200_s22_a.txt --target data/ot/pc2d_clustered_n150_s22_b.txt --online --scale-cost --reg 0.01",
    ),
    (
        "ot_grids",
        "ot --source-grid data/ot/mix_12x12_k2_s1.txt --target-grid data/ot/mix_16x16_k3_s2.txt --reg 0.01",
    ),
    (
        "sdp_sdpa",
        "sdp data/suites/sdplib/theta1.dat-s --max-iter 5 --method low-rank",
    ),
    ("sdp_sdpa_ipm", "sdp data/suites/sdplib/theta1.dat-s"),
    (
        "sdp_sdpa_memory_efficient",
        "sdp data/suites/sdplib/theta1.dat-s --max-iter 5 --memory-efficient",
    ),
    (
        "sdp_maxcut",
        "sdp --maxcut data/maxcut/torus_4x6_pm1_s2.txt",
    ),
    (
        "sdp_maxcut_sketch",
        "sdp --maxcut data/maxcut/torus_4x6_pm1_s2.txt --memory-efficient --max-iter 50",
    ),
    (
        "nlp_hs",
        "nlp data/suites/nlp/hs_equality.json --problem hs28",
    ),
    (
        "nlp_hs_sketch",
        "nlp data/suites/nlp/hs_equality.json --problem hs28 --kkt sketch --tol 1e-6",
    ),
    ("nlp_pde", "nlp --pde-control 6"),
    ("nlp_logreg", "nlp --logreg-random 200 --constraints 3"),
    ("game", "game --generate uniform --size 20"),
    (
        "game_vr",
        "game --generate uniform --size 20 --method vr-halpern --max-epochs 50",
    ),
    ("bilevel_quadratic", "bilevel quadratic"),
    ("bilevel_aid", "bilevel quadratic --method aid"),
    (
        "bilevel_stochastic",
        "bilevel nonunique --method stochastic --sigma 0.1",
    ),
    ("bilevel_ridge", "bilevel ridge --size 40 --dim 5"),
    (
        "bilevel_hyperclean",
        "bilevel hyperclean --size 200 --max-inner 200 --tol 1e-3",
    ),
];

/// Every object key of `v` as a path (`stats.samples`); arrays of objects add `[]`.
fn key_paths(v: &serde_json::Value, prefix: &str, out: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.insert(p.clone());
                key_paths(x, &p, out);
            }
        }
        serde_json::Value::Array(a) => {
            if let Some(first) = a.iter().find(|x| x.is_object()) {
                key_paths(first, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

fn keys_of(args: &str) -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new(env!("CARGO_BIN_EXE_solve"))
        .current_dir(&root)
        .args(args.split_whitespace())
        .args(["--json", "--threads", "2"])
        .output()
        .expect("run solve");
    assert_eq!(
        out.status.code(),
        Some(0),
        "solve {args}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("solve {args}: not one JSON document: {e}"));
    let mut keys = BTreeSet::new();
    key_paths(&v, "", &mut keys);
    keys
}

/// The recorded file: `[name]` then one key per line.
fn recorded(text: &str) -> Vec<(String, BTreeSet<String>)> {
    let mut out: Vec<(String, BTreeSet<String>)> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            out.push((name.to_string(), BTreeSet::new()));
        } else if let Some((_, keys)) = out.last_mut() {
            keys.insert(line.to_string());
        }
    }
    out
}

#[test]
fn every_command_keeps_its_json_keys() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/json_keys.txt");
    if std::env::var_os("MATHPROG_RECORD_KEYS").is_some() {
        let mut text = String::new();
        for (name, args) in RUNS {
            text.push_str(&format!("[{name}]\n"));
            for k in keys_of(args) {
                text.push_str(&k);
                text.push('\n');
            }
        }
        std::fs::write(&file, text).unwrap();
    }
    let want = recorded(&std::fs::read_to_string(&file).unwrap());
    assert_eq!(
        want.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        RUNS.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        "json_keys.txt records other runs than RUNS"
    );
    let mut missing = Vec::new();
    for ((name, args), (_, keys)) in RUNS.iter().zip(&want) {
        let have = keys_of(args);
        for k in keys.difference(&have) {
            missing.push(format!("{name}: {k}"));
        }
    }
    assert!(
        missing.is_empty(),
        "keys dropped from --json reports:\n{}",
        missing.join("\n")
    );
}
