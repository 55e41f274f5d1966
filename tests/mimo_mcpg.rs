//! MIMO detection: ML search against brute force, BER against MMSE on generated channels, and
//! the MCPG authors' 180 x 180 data set against its published MMSE bit error rates.

mod common;

use mathprog::problems::binary::BinaryObjective;
use mathprog::problems::exact::binary_brute_force;
use mathprog::problems::io::mat::read_mat_matrix;
use mathprog::problems::mimo::{MimoDetection, MimoInstance, Modulation, bit_error_rate};
use mathprog::solvers::binary::mimo::{MimoSettings, solve};
use mathprog::solvers::core::NoObserver;
use proptest::prelude::*;

fn settings(seed: u64) -> MimoSettings {
    let mut s = MimoSettings::default();
    s.mcpg.common.seed = seed;
    s.mcpg.common.threads = Some(2);
    s
}

proptest! {
    #![proptest_config(common::config(32))]

    /// On small channels (at most 12 real variables) MCPG's lowest residual is the ML optimum.
    #[test]
    fn mcpg_finds_the_ml_solution(nt in 1usize..=6, extra in 0usize..3, snr in -5.0f64..15.0, seed in 0u64..1000) {
        let inst = MimoInstance::generate(nt, nt + extra, snr, seed).unwrap();
        let p = MimoDetection::new(&inst, faer::Par::Seq).unwrap();
        let (ml, _) = binary_brute_force(&p).unwrap();
        let r = solve(&inst, &settings(seed), &mut NoObserver).unwrap();
        let best = r.stats.mcpg.best_objective.unwrap();
        prop_assert!((best - ml).abs() <= 1e-9 * ml.abs().max(1.0), "best {best} vs ML {ml}");
        // The reported objective is the residual of the reported answer.
        prop_assert!((p.energy(&r.solution) - r.objective).abs() <= 1e-9 * r.objective.abs().max(1.0));
        prop_assert!(r.objective >= ml - 1e-9 * ml.abs().max(1.0));
    }

    /// 16-QAM (two spins per real dimension, at most 12 spins): the same, with the alphabet's
    /// own defaults.
    #[test]
    fn mcpg_finds_the_ml_solution_16qam(nt in 1usize..=3, extra in 0usize..3, snr in 0.0f64..25.0, seed in 0u64..1000) {
        let inst = MimoInstance::generate_with(nt, nt + extra, Modulation::Qam16, snr, seed).unwrap();
        let p = MimoDetection::new(&inst, faer::Par::Seq).unwrap();
        let (ml, _) = binary_brute_force(&p).unwrap();
        let mut s = MimoSettings::for_modulation(Modulation::Qam16);
        s.mcpg.common.seed = seed;
        let r = solve(&inst, &s, &mut NoObserver).unwrap();
        let best = r.stats.mcpg.best_objective.unwrap();
        prop_assert!((best - ml).abs() <= 1e-9 * ml.abs().max(1.0), "best {best} vs ML {ml}");
        let ber = r.stats.ber.unwrap();
        prop_assert!((0.0..=1.0).contains(&ber));
        prop_assert_eq!(Some(ber), inst.bit_error_rate(&r.solution));
    }
}

#[test]
fn qam16_high_snr_is_error_free_and_beats_mmse_at_moderate_snr() {
    for seed in 1..=3 {
        let inst = MimoInstance::generate_with(24, 24, Modulation::Qam16, 40.0, seed).unwrap();
        let r = solve(
            &inst,
            &MimoSettings::for_modulation(Modulation::Qam16),
            &mut NoObserver,
        )
        .unwrap();
        assert_eq!(r.stats.ber.unwrap(), 0.0, "seed {seed}");
    }
    let (mut ours, mut mmse) = (0.0, 0.0);
    for seed in 1..=10 {
        let inst = MimoInstance::generate_with(64, 64, Modulation::Qam16, 18.0, seed).unwrap();
        let mut s = MimoSettings::for_modulation(Modulation::Qam16);
        s.mcpg.common.seed = seed;
        let r = solve(&inst, &s, &mut NoObserver).unwrap();
        ours += r.stats.ber.unwrap();
        mmse += r.stats.mmse_ber.unwrap();
    }
    assert!(
        ours < 0.6 * mmse,
        "16-QAM BER {} vs MMSE {}",
        ours / 10.0,
        mmse / 10.0
    );
}

#[test]
fn high_snr_detection_is_error_free() {
    for seed in 1..=3 {
        let inst = MimoInstance::generate(32, 32, 30.0, seed).unwrap();
        let r = solve(&inst, &settings(seed), &mut NoObserver).unwrap();
        assert_eq!(r.stats.ber.unwrap(), 0.0, "seed {seed}");
    }
}

#[test]
fn mcpg_beats_mmse_on_seeded_channels() {
    // 64 x 64 at 6 dB, 10 seeds: MMSE is far from optimal here (paper: 0.1055 vs 0.0691 at 800).
    let (mut ours, mut mmse) = (0.0, 0.0);
    for seed in 1..=10 {
        let inst = MimoInstance::generate(64, 64, 6.0, seed).unwrap();
        let r = solve(&inst, &settings(seed), &mut NoObserver).unwrap();
        ours += r.stats.ber.unwrap();
        mmse += r.stats.mmse_ber.unwrap();
    }
    assert!(
        ours < 0.85 * mmse,
        "MCPG BER {} vs MMSE {}",
        ours / 10.0,
        mmse / 10.0
    );
    // The paper's group vote is also better than MMSE.
    let (mut vote, mut mmse2) = (0.0, 0.0);
    for seed in 1..=10 {
        let inst = MimoInstance::generate(64, 64, 6.0, seed).unwrap();
        let mut s = MimoSettings::group_vote();
        s.mcpg.common.seed = seed;
        let r = solve(&inst, &s, &mut NoObserver).unwrap();
        vote += r.stats.ber.unwrap();
        mmse2 += r.stats.mmse_ber.unwrap();
    }
    assert!(
        vote <= mmse2,
        "vote BER {} vs MMSE {}",
        vote / 10.0,
        mmse2 / 10.0
    );
}

#[test]
fn same_seed_same_answer_at_any_thread_count() {
    let inst = MimoInstance::generate(40, 40, 4.0, 9).unwrap();
    let mut a = settings(3);
    a.mcpg.common.threads = Some(1);
    let mut b = settings(3);
    b.mcpg.common.threads = Some(2);
    let ra = solve(&inst, &a, &mut NoObserver).unwrap();
    let rb = solve(&inst, &b, &mut NoObserver).unwrap();
    assert_eq!(ra.solution, rb.solution);
}

/// The MCPG authors' 4-QAM 180 x 180 set: our MMSE on their channels, symbols and noise
/// reproduces their MMSE bit error rates (checks the real form, the SNR convention and MMSE).
#[test]
fn shared_180_set_reproduces_the_reference_mmse_ber() {
    let Some(dir) = common::shared("mimo/4QAM180_180", "the 4-QAM 180x180 MMSE reference") else {
        return;
    };
    let reference = read_mat_matrix(dir.join("BER_MMSE.mat"), Some("BER_MMSE")).unwrap();
    let snrs = [2.0, 4.0, 6.0, 8.0, 10.0, 12.0];
    assert_eq!(reference.data.len(), snrs.len());
    // SNR 2 and 8 dB over 5 channels x 20 symbol vectors (the full set is 20 x 20).
    for (k, &snr) in snrs.iter().enumerate().filter(|(k, _)| [0, 3].contains(k)) {
        let (mut errs, mut bits) = (0.0, 0.0);
        for c in 1..=5 {
            let h = read_mat_matrix(dir.join(format!("4QAM180H{c}.mat")), Some("save_H")).unwrap();
            let x = read_mat_matrix(dir.join(format!("4QAM180X{c}.mat")), Some("save_X")).unwrap();
            let v = read_mat_matrix(dir.join(format!("4QAM180v{c}.mat")), Some("save_v")).unwrap();
            assert_eq!((h.rows, h.cols, x.rows, x.cols), (360, 360, 20, 360));
            for row in 0..x.rows {
                let xr: Vec<f64> = (0..360).map(|j| x.get(row, j)).collect();
                let vr: Vec<f64> = (0..360).map(|j| v.get(row, j)).collect();
                let inst =
                    MimoInstance::from_real_form(180, 180, |i, j| h.get(i, j), &xr, &vr, snr)
                        .unwrap();
                let p = MimoDetection::new(&inst, faer::Par::Seq).unwrap();
                let (m, _) = p.mmse().unwrap();
                errs += bit_error_rate(&m, &inst.true_spins().unwrap()) * 360.0;
                bits += 360.0;
            }
        }
        let ours = errs / bits;
        let want = reference.data[k];
        // 36,000 bits: a binomial standard deviation of about 0.002 at these rates.
        assert!(
            (ours - want).abs() < 0.006,
            "SNR {snr}: our MMSE BER {ours} vs reference {want}"
        );
    }
}
