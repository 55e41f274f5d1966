//! nalgebra interop: the constructors read nalgebra's column-major matrices by index, so a
//! matrix gives the same problem as its row-major entries, dimensions are checked, and the
//! transposed-game pitfall of passing `as_slice()` to a row-major constructor is visible.

use mathprog::problems::Sense;
use mathprog::problems::game::MatrixGame;
use mathprog::problems::graph::Graph;
use mathprog::problems::nlp::logreg::Features;
use mathprog::problems::ot::OtProblem;
use mathprog::problems::qubo::{Domain, Qubo};
use nalgebra::{DMatrix, DVector};
use nalgebra_sparse::{CooMatrix, CsrMatrix};

#[test]
fn games_read_entries_by_index() {
    // Rows: the minimising player. A 2 x 3 game whose value depends on the orientation.
    let rows = [3.0, -1.0, 2.0, -2.0, 4.0, 0.5];
    let a = DMatrix::from_row_slice(2, 3, &rows);
    let from_na = MatrixGame::from_nalgebra("g", &a).unwrap();
    let from_rm = MatrixGame::from_row_major("g", 2, 3, rows.to_vec()).unwrap();
    for i in 0..2 {
        for j in 0..3 {
            assert_eq!(from_na.entry(i, j), from_rm.entry(i, j));
            assert_eq!(from_na.entry(i, j), a[(i, j)]);
        }
    }
    // The pitfall: the column-major buffer read as row-major is another game.
    let wrong = MatrixGame::from_row_major("g", 2, 3, a.as_slice().to_vec()).unwrap();
    assert_ne!(wrong.entry(0, 1), a[(0, 1)]);
    let (v_na, _, _) = mathprog::problems::exact::game_exact(&from_na).unwrap();
    let (v_rm, _, _) = mathprog::problems::exact::game_exact(&from_rm).unwrap();
    assert_eq!(v_na, v_rm);
}

#[test]
fn ot_costs_and_marginals_are_checked() {
    let c = DMatrix::from_fn(3, 2, |i, j| (i as f64 - j as f64).powi(2));
    let a = DVector::from_vec(vec![0.2, 0.3, 0.5]);
    let b = DVector::from_vec(vec![0.6, 0.4]);
    let p = OtProblem::from_nalgebra(&a, &b, &c).unwrap();
    assert_eq!((p.n(), p.m()), (3, 2));
    for i in 0..3 {
        for j in 0..2 {
            assert_eq!(p.cost()[i * 2 + j], c[(i, j)]);
        }
    }
    // The cost must be n x m, not m x n.
    let err = OtProblem::from_nalgebra(&a, &b, &c.transpose()).unwrap_err();
    assert!(err.to_string().contains("2 x 3"), "{err}");
}

#[test]
fn qubo_from_a_symmetric_matrix() {
    let q = DMatrix::from_row_slice(3, 3, &[1.0, -2.0, 0.0, -2.0, 3.0, 0.5, 0.0, 0.5, -1.0]);
    let p = Qubo::from_nalgebra(&q, Domain::ZeroOne, Sense::Minimize).unwrap();
    let d = Qubo::from_dense(3, q.as_slice(), Domain::ZeroOne, Sense::Minimize).unwrap();
    for x in [[1i8, -1, 1], [1, 1, 1], [-1, 1, -1]] {
        assert_eq!(p.value(&x), d.value(&x));
    }
    let asym = DMatrix::from_row_slice(2, 2, &[0.0, 1.0, 2.0, 0.0]);
    assert!(Qubo::from_nalgebra(&asym, Domain::Spin, Sense::Minimize).is_err());
    assert!(Qubo::from_nalgebra(&DMatrix::zeros(2, 3), Domain::Spin, Sense::Minimize).is_err());
}

#[test]
fn graphs_from_symmetric_sparse_adjacency() {
    let mut coo = CooMatrix::new(4, 4);
    for (i, j, w) in [(0, 1, 1.0), (1, 2, -1.0), (2, 3, 2.0), (3, 0, 1.0)] {
        coo.push(i, j, w);
        coo.push(j, i, w);
    }
    let g = Graph::from_nalgebra_sparse(&CsrMatrix::from(&coo)).unwrap();
    let e = Graph::from_edges(4, &[(0, 1, 1.0), (1, 2, -1.0), (2, 3, 2.0), (0, 3, 1.0)]).unwrap();
    assert_eq!(g.num_edges(), 4);
    assert_eq!(g.csr(), e.csr());
    let mut half = CooMatrix::new(3, 3);
    half.push(0, 1, 1.0);
    assert!(Graph::from_nalgebra_sparse(&CsrMatrix::from(&half)).is_err());
    let mut low = CooMatrix::new(3, 3);
    low.push(2, 0, 1.0);
    assert!(Graph::from_nalgebra_sparse(&CsrMatrix::from(&low)).is_err());
    let mut loop_ = CooMatrix::new(2, 2);
    loop_.push(1, 1, 1.0);
    assert!(Graph::from_nalgebra_sparse(&CsrMatrix::from(&loop_)).is_err());
}

#[test]
fn dense_features_are_row_major_samples() {
    let x = DMatrix::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    match Features::from_nalgebra(&x) {
        Features::DenseRowMajor { rows, cols, data } => {
            assert_eq!((rows, cols), (2, 3));
            assert_eq!(data, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        }
        Features::Sparse(_) => panic!("dense input gives dense features"),
    }
}
