//! The committed instances under `data/` are exactly what our seeded generators write, and
//! `data/maxcut/optimal.json` holds their brute-force optima.
//!
//! Regenerate with `MATHPROG_REGENERATE_DATA=1 cargo test --test data_files`.

mod common;

use mathprog::problems::exact::maxcut_brute_force;
use mathprog::problems::io::gset::{read_gset, write_gset_to};
use mathprog::problems::maxcut::MaxCut;
use std::collections::BTreeMap;

#[test]
fn bundled_maxcut_instances_match_generators_and_optima() {
    let dir = common::repo("data/maxcut");
    let regenerate = std::env::var_os("MATHPROG_REGENERATE_DATA").is_some();
    let mut optima = BTreeMap::new();
    for (name, graph) in common::bundled_maxcut() {
        let mut bytes = Vec::new();
        write_gset_to(&mut bytes, &graph).unwrap();
        let path = dir.join(name);
        if regenerate {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &bytes).unwrap();
        }
        let committed = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(committed, bytes, "{name} differs from its generator");
        let p = MaxCut::new(read_gset(&path).unwrap());
        let (opt, x) = maxcut_brute_force(&p).unwrap();
        assert_eq!(p.cut_value(&x), opt);
        optima.insert(name.trim_end_matches(".txt").to_string(), opt);
    }
    let json = dir.join("optimal.json");
    if regenerate {
        std::fs::write(&json, serde_json::to_string_pretty(&optima).unwrap() + "\n").unwrap();
    }
    let stored: BTreeMap<String, f64> =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(stored, optima);
}
