//! Golden-model throughput (docs/benchmarks.md): 784-256-10 LIFB, T = 8, about 20 % of the
//! inputs active per step. `cargo bench --bench golden`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lifb_hdl::golden::{bench, IntSim};
use lifb_hdl::ir::Encoding;
use rand::{Rng, SeedableRng};

fn golden(c: &mut Criterion) {
    let mut g = c.benchmark_group("golden_784_256_10_T8");
    for (name, enc) in [
        ("direct", Encoding::Direct),
        ("rate", Encoding::Rate { seed: 7 }),
    ] {
        let net = bench::mlp(&[784, 256, 10], 4, enc, 1);
        let sim = IntSim::new(&net).unwrap();
        let max = net.fixed.as_ref().unwrap().input_max();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        let inputs: Vec<Vec<u32>> = (0..64)
            .map(|_| match enc {
                Encoding::Rate { .. } => (0..784)
                    .map(|_| (max as f64 * 0.4 * rng.random::<f64>()) as u32)
                    .collect(),
                _ => (0..784)
                    .map(|_| rng.random_bool(0.2) as u32 * max)
                    .collect(),
            })
            .collect();
        g.throughput(Throughput::Elements(1));
        let mut i = 0usize;
        let mut ws = sim.workspace();
        g.bench_function(name, |b| {
            b.iter(|| {
                i += 1;
                sim.classify_in(&mut ws, &inputs[i % inputs.len()], i as u64, 8)
                    .unwrap()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, golden);
criterion_main!(benches);
