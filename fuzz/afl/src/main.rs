//! AFL++ target: the NIR importer (`nir::import_bytes`) on the bytes AFL gives, read with the
//! generic preset and dt = 1 (the options of most NIR fixtures). A panic is a crash for AFL;
//! errors are the expected outcome for damaged files.

fn main() {
    let opts = lifb_hdl::nir::ImportOptions {
        preset: Some(lifb_hdl::nir::Preset::Generic),
        dt: Some(1.0),
        ..Default::default()
    };
    afl::fuzz!(|data: &[u8]| {
        let _ = lifb_hdl::nir::import_bytes(data, &opts);
    });
}
