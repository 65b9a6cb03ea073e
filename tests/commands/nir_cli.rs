//! The import/export subcommands end to end: outputs written, warnings printed, bad input
//! exits with code 2 and a message naming the problem.

use crate::common::{bin, Scratch};
use std::path::{Path, PathBuf};

fn fixture(n: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/nir")
        .join(n)
}

#[test]
fn import_export_import_via_the_cli() {
    let dir = Scratch::new("nir-cli");
    let m1 = dir.join("a.json");
    let o = bin()
        .args(["import", "--nir"])
        .arg(fixture("snntorch_mlp_subtract.nir"))
        .args(["--preset", "snntorch", "-o"])
        .arg(&m1)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("warning: node 'lif2' (LIF)"));
    let nir = dir.join("a.nir");
    let o = bin()
        .args(["export", "--model"])
        .arg(&m1)
        .arg("--nir")
        .arg(&nir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m2 = dir.join("b.json");
    let o = bin()
        .args(["import", "--nir"])
        .arg(&nir)
        .arg("-o")
        .arg(&m2)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let a = lifb_hdl::format::load(&m1).unwrap();
    let b = lifb_hdl::format::load(&m2).unwrap();
    assert_eq!(a, b);
}

#[test]
fn bad_input_exits_2_with_a_clear_message() {
    let out = Scratch::file("nir-cli-bad", "out.json");
    for (f, args, want) in [
        (
            "refuse_cubalif.nir",
            vec!["--preset", "norse"],
            "node 'mid' (CubaLIF) cannot be imported",
        ),
        (
            "corrupt_truncated_half.nir",
            vec!["--preset", "norse"],
            "corrupt_truncated_half.nir",
        ),
        ("norse_mlp.nir", vec![], "--preset"),
        (
            "does_not_exist.nir",
            vec!["--preset", "norse"],
            "does_not_exist.nir",
        ),
    ] {
        let o = bin()
            .args(["import", "--nir"])
            .arg(fixture(f))
            .args(&args)
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{f}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(want), "{f}: {err}");
        assert!(!out.exists(), "{f}: no output on failure");
    }
}

#[test]
fn import_a_state_dict_via_the_cli() {
    use safetensors::tensor::{Dtype, TensorView};
    let dir = Scratch::new("sd-cli");
    let w: Vec<u8> = [0.5f32, -0.25, 1.0, 0.75, 0.125, 1.5]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let beta: Vec<u8> = 0.5f32.to_le_bytes().to_vec();
    let views = vec![
        (
            "fc1.weight".to_string(),
            TensorView::new(Dtype::F32, vec![2, 3], &w).unwrap(),
        ),
        (
            "lif1.beta".to_string(),
            TensorView::new(Dtype::F32, vec![], &beta).unwrap(),
        ),
    ];
    let st = dir.join("w.safetensors");
    std::fs::write(&st, safetensors::serialize(views, None).unwrap()).unwrap();
    let arch = dir.join("arch.json");
    std::fs::write(
        &arch,
        r#"{"convention": "snntorch", "input": [3], "layers": [{"type": "linear", "name": "fc1"}, {"type": "leaky", "name": "lif1"}]}"#,
    )
    .unwrap();
    let model = dir.join("m.json");
    let o = bin()
        .args(["import", "--safetensors"])
        .arg(&st)
        .arg("--arch")
        .arg(&arch)
        .arg("-o")
        .arg(&model)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lifb_hdl::format::AnyNetwork::Float(net) = lifb_hdl::format::load(&model).unwrap() else {
        panic!()
    };
    assert_eq!(net.layers.len(), 2);
    // Missing --arch is a usage error (clap: exit 2).
    let o = bin()
        .args(["import", "--safetensors"])
        .arg(&st)
        .arg("-o")
        .arg(&model)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}
