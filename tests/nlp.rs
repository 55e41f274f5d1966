//! Equality-constrained NLP problems: the Hock–Schittkowski set reads, its known solutions are
//! feasible with the listed values, and every built-in derivative matches finite differences.

mod common;

use mathprog::problems::nlp::hs::{ExprNlp, read_hs_set};
use mathprog::problems::nlp::{EqualityNlp, check_derivatives};

#[test]
fn hs_set_reads_and_its_solutions_check_out() {
    let set = read_hs_set(common::shared_data("nlp/hs_equality.json")).unwrap();
    assert_eq!(set.len(), 19);
    for p in &set {
        let name = p.nlp.name();
        let mut c = vec![0.0; p.nlp.num_constraints()];
        p.nlp.constraints(&p.x_star, &mut c);
        let viol = c.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        // x_star is listed to about 7 digits.
        assert!(viol <= 1e-4, "{name}: |c(x*)| = {viol}");
        let f = p.nlp.objective(&p.x_star);
        assert!(
            (f - p.f_star).abs() <= 1e-5 * p.f_star.abs().max(1.0),
            "{name}: f(x*) = {f} vs {}",
            p.f_star
        );
        let lambda: Vec<f64> = (0..c.len()).map(|i| 0.5 - 0.3 * i as f64).collect();
        for x in [p.nlp.x0(), p.x_star.clone()] {
            let d = check_derivatives(&p.nlp, &x, &lambda, 1e-5);
            assert!(d.max() <= 1e-6, "{name}: {d:?}");
        }
    }
}

#[test]
fn formula_errors_name_the_problem_and_column() {
    let e = ExprNlp::new("t", 2, "x1^2 + x3", &[], vec![0.0, 0.0]).unwrap_err();
    assert!(
        e.to_string()
            .contains("t: objective: column 8: variable x3 outside x1..x2"),
        "{e}"
    );
    let e = ExprNlp::new("t", 2, "x1", &["x1 + * x2"], vec![0.0, 0.0]).unwrap_err();
    assert!(e.to_string().contains("constraint 1: column 6"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("hs.json");
    std::fs::write(&f, "{\"problems\": [\n {\"name\": \"HSX\", \"n\": 1, \"m\": 1, \"objective\": \"x1\",\n \"constraints\": [\"x1 -\"], \"x0\": [0], \"f_star\": 0, \"x_star\": [0]}]}").unwrap();
    let e = read_hs_set(&f).unwrap_err().to_string();
    assert!(
        e.contains("hs.json:2:") && e.contains("HSX: constraint 1"),
        "{e}"
    );
}

use mathprog::solvers::core::{NoObserver, Status};
use mathprog::solvers::nlp::kkt::KktMethod;
use mathprog::solvers::nlp::{NlpSettings, solve};

fn run_hs(method: KktMethod, tol: f64, block: usize) -> Vec<String> {
    let set = read_hs_set(common::shared_data("nlp/hs_equality.json")).unwrap();
    let mut failures = Vec::new();
    for p in &set {
        let mut s = NlpSettings::default();
        s.kkt = method;
        s.block_size = block;
        s.tol = tol;
        s.common.max_iter = Some(500);
        let r = solve(&p.nlp, &s, &mut NoObserver).unwrap();
        let ok = r.status == Status::Converged
            && (r.objective - p.f_star).abs() <= 1e-6 * p.f_star.abs().max(1.0);
        eprintln!(
            "{:6} {:?} {:?} f {:.10} (f* {:.10}) kkt {:.1e} outer {} inner {}",
            p.nlp.name(),
            method,
            r.status,
            r.objective,
            p.f_star,
            r.residuals["kkt"],
            r.iterations,
            r.stats["inner_iterations"]
        );
        if !ok {
            failures.push(p.nlp.name());
        }
    }
    failures
}

/// Every HS problem reaches its known optimum (1e-6 relative) with KKT ≤ 1e-8 (direct).
#[test]
fn hs_set_direct() {
    let f = run_hs(KktMethod::Direct, 1e-8, 0);
    assert!(f.is_empty(), "{f:?}");
}
