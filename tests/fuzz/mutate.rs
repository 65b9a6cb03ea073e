//! Mutations for the fuzzer: byte-level ones that know nothing about the format, and
//! structure-aware ones for JSON (manifests, architectures, input sets, safetensors headers),
//! safetensors files (header length prefix, header, tensor data) and HDF5 (address and size
//! fields). Every mutation is a pure function of the random generator and its inputs.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

pub type R = ChaCha8Rng;

/// No mutation grows a part beyond this (the loaders' own caps are far above; this keeps an
/// execution fast).
const MAX_PART: usize = 4 << 20;

fn pick_interesting(rng: &mut R, len: usize) -> u64 {
    let t = interesting_table(len);
    t[rng.random_range(0..t.len())]
}

/// Integers that break length and offset fields.
fn interesting_table(len: usize) -> Vec<u64> {
    let len = len as u64;
    vec![
        0,
        1,
        2,
        7,
        8,
        0x7f,
        0x80,
        0xff,
        0x100,
        0x7fff,
        0x8000,
        0xffff,
        0x1_0000,
        0x7fff_ffff,
        0x8000_0000,
        0xffff_ffff,
        1 << 32,
        1 << 26,
        (1 << 26) + 1,
        1 << 30,
        1 << 31,
        1 << 40,
        0x7fff_ffff_ffff_ffff,
        0x8000_0000_0000_0000,
        u64::MAX,
        u64::MAX - 1,
        len,
        len + 1,
        len.wrapping_sub(1),
        len * 2,
    ]
}

/// Text tokens that JSON parsers and schema checks meet rarely.
const TOKENS: [&str; 24] = [
    "0",
    "-1",
    "1e999",
    "-1e999",
    "NaN",
    "null",
    "true",
    "\"\"",
    "[]",
    "{}",
    "[",
    "{",
    ",",
    "\"",
    ":",
    "\\u0000",
    "\\ud800",
    "18446744073709551616",
    "9223372036854775807",
    "4294967295",
    "1e-45",
    "-0",
    "0.5",
    "1.0000001",
];

fn range(rng: &mut R, len: usize) -> (usize, usize) {
    let a = rng.random_range(0..=len);
    let max = (len - a).min(if rng.random_bool(0.8) { 16 } else { 4096 });
    let n = rng.random_range(0..=max);
    (a, a + n)
}

/// One byte-level mutation of `d`; `donor` is another corpus entry's same part (for splicing).
pub fn bytes(rng: &mut R, d: &mut Vec<u8>, donor: &[u8]) {
    if d.is_empty() {
        d.push(rng.random());
        return;
    }
    let len = d.len();
    match rng.random_range(0..13) {
        0 => {
            let i = rng.random_range(0..len);
            d[i] ^= 1 << rng.random_range(0..8);
        }
        1 => {
            const B: [u8; 10] = [0, 1, 0x7f, 0x80, 0xff, 0x20, b'"', b'{', b'0', b'9'];
            let i = rng.random_range(0..len);
            d[i] = B[rng.random_range(0..B.len())];
        }
        2 => {
            let i = rng.random_range(0..len);
            d[i] = rng.random();
        }
        3 => {
            let w = [2usize, 4, 8][rng.random_range(0..3)];
            if len >= w {
                let v = pick_interesting(rng, len);
                let i = rng.random_range(0..=len - w);
                put_int(d, i, w, v, rng.random_bool(0.5));
            }
        }
        4 => {
            let w = [1usize, 2, 4][rng.random_range(0..3)];
            if len >= w {
                let i = rng.random_range(0..=len - w);
                let be = rng.random_bool(0.5);
                let v = get_int(d, i, w, be);
                let delta = rng.random_range(1..=35u64);
                let v = if rng.random_bool(0.5) {
                    v.wrapping_add(delta)
                } else {
                    v.wrapping_sub(delta)
                };
                put_int(d, i, w, v, be);
            }
        }
        5 => {
            let n = rng.random_range(0..len);
            d.truncate(n);
        }
        6 => {
            let (a, b) = range(rng, len);
            d.drain(a..b);
        }
        7 => {
            let (a, b) = range(rng, len);
            if len + (b - a) <= MAX_PART {
                let chunk = d[a..b].to_vec();
                let at = rng.random_range(0..=len);
                d.splice(at..at, chunk);
            }
        }
        8 => {
            if !donor.is_empty() {
                let a = rng.random_range(0..=len);
                let b = rng.random_range(0..donor.len());
                if a + donor.len() - b <= MAX_PART {
                    d.truncate(a);
                    d.extend_from_slice(&donor[b..]);
                }
            }
        }
        9 => {
            if !donor.is_empty() {
                let (a, b) = range(rng, donor.len());
                if len + (b - a) <= MAX_PART {
                    let at = rng.random_range(0..=len);
                    d.splice(at..at, donor[a..b].iter().copied());
                }
            }
        }
        10 => {
            if !donor.is_empty() {
                let (a, b) = range(rng, donor.len());
                let n = (b - a).min(len);
                let at = rng.random_range(0..=len - n);
                d[at..at + n].copy_from_slice(&donor[a..a + n]);
            }
        }
        11 => {
            let t = TOKENS[rng.random_range(0..TOKENS.len())].as_bytes();
            let at = rng.random_range(0..=len);
            if rng.random_bool(0.5) {
                d.splice(at..at, t.iter().copied());
            } else {
                let end = (at + t.len()).min(len);
                d.splice(at..end, t.iter().copied());
            }
        }
        _ => {
            // Replace a run of ASCII digits (a number in a text format) by an interesting one.
            let i = rng.random_range(0..len);
            if let Some(s) = (i..len).find(|&j| d[j].is_ascii_digit()) {
                let e = (s..len).find(|&j| !d[j].is_ascii_digit()).unwrap_or(len);
                let v = pick_interesting(rng, len).to_string();
                d.splice(s..e, v.bytes());
            }
        }
    }
}

fn put_int(d: &mut [u8], i: usize, w: usize, v: u64, be: bool) {
    let b = if be { v.to_be_bytes() } else { v.to_le_bytes() };
    if be {
        d[i..i + w].copy_from_slice(&b[8 - w..]);
    } else {
        d[i..i + w].copy_from_slice(&b[..w]);
    }
}

fn get_int(d: &[u8], i: usize, w: usize, be: bool) -> u64 {
    let mut b = [0u8; 8];
    if be {
        b[8 - w..].copy_from_slice(&d[i..i + w]);
        u64::from_be_bytes(b)
    } else {
        b[..w].copy_from_slice(&d[i..i + w]);
        u64::from_le_bytes(b)
    }
}

/// Strings the loaders give meaning to (kinds, conventions, dtypes, names).
const STRINGS: [&str; 40] = [
    "",
    "x",
    "../x",
    "a/b",
    ".hidden",
    "float",
    "integer",
    "lifb-hdl-model",
    "snntorch",
    "braincog",
    "linear",
    "conv2d",
    "leaky",
    "lif",
    "burst_lif",
    "flatten",
    "sum_pool2d",
    "avg_pool2d",
    "dense",
    "lifb",
    "lif_group",
    "lif_recurrent",
    "lambda",
    "fixed",
    "subtract",
    "zero",
    "direct",
    "rate",
    "burst",
    "F32",
    "I32",
    "F64",
    "I64",
    "BOOL",
    "U8",
    "F16",
    "layers.0.weight",
    "layers.1.threshold",
    "fc1",
    "lif1",
];

const KEYS: [&str; 36] = [
    "kind",
    "shape",
    "dtype",
    "data_offsets",
    "in_features",
    "out_features",
    "in_channels",
    "out_channels",
    "bias",
    "kernel",
    "stride",
    "padding",
    "group",
    "max_burst",
    "leak",
    "reset",
    "lam",
    "d",
    "fixed",
    "scales",
    "samples",
    "labels",
    "name",
    "type",
    "input",
    "layers",
    "beta",
    "threshold",
    "tau",
    "convention",
    "__metadata__",
    "encoding",
    "max_count",
    "seed",
    "c",
    "extra",
];

fn number(rng: &mut R, old: Option<f64>) -> Value {
    let o = old.unwrap_or(1.0);
    match rng.random_range(0..22) {
        0 => Value::from(u64::MAX),
        1 => Value::from(i64::MIN),
        2 => Value::from(1u64 << 63),
        3 => Value::from((1u64 << 53) + 1),
        4 => Value::from(1u64 << 32),
        5 => Value::from(1u64 << 26),
        6 => Value::from((1u64 << 26) + 1),
        7 => Value::from(-1),
        8 => Value::from(0),
        9 => Value::from(0.5),
        10 => serde_json::json!(-0.0),
        11 => serde_json::json!(1e-45),
        12 => serde_json::json!(1e300),
        13 => serde_json::json!(-1e300),
        14 => serde_json::json!(f32::MAX as f64 * 2.0),
        15 => serde_json::json!(o * 1000.0),
        16 => serde_json::json!(o + 1.0),
        17 => serde_json::json!(o - 1.0),
        18 => Value::from(["NaN", "inf", "-inf", "1"][rng.random_range(0..4)]),
        19 => Value::from(u32::MAX),
        20 => Value::from(i32::MIN),
        _ => Value::from(rng.random_range(0..70u64)),
    }
}

fn simple(rng: &mut R) -> Value {
    match rng.random_range(0..6) {
        0 => number(rng, None),
        1 => Value::from(STRINGS[rng.random_range(0..STRINGS.len())]),
        2 => Value::Null,
        3 => Value::Bool(rng.random()),
        4 => serde_json::json!([]),
        _ => serde_json::json!({}),
    }
}

/// Paths to every node (object key or array index), up to a limit.
#[derive(Clone)]
enum Step {
    Key(String),
    Index(usize),
}

fn paths(v: &Value, at: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    if out.len() > 20_000 {
        return;
    }
    out.push(at.clone());
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                at.push(Step::Key(k.clone()));
                paths(c, at, out);
                at.pop();
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                at.push(Step::Index(i));
                paths(c, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn at_path<'a>(v: &'a mut Value, p: &[Step]) -> &'a mut Value {
    let mut cur = v;
    for s in p {
        cur = match s {
            Step::Key(k) => &mut cur[k.as_str()],
            Step::Index(i) => &mut cur[*i],
        };
    }
    cur
}

/// Mutate one node of a JSON document in place.
pub fn json_value(rng: &mut R, v: &mut Value) {
    let mut all = Vec::new();
    paths(v, &mut Vec::new(), &mut all);
    let p = &all[rng.random_range(0..all.len())];
    let node = at_path(v, p);
    match node {
        Value::Number(n) => {
            let old = n.as_f64();
            *node = if rng.random_bool(0.9) {
                number(rng, old)
            } else {
                simple(rng)
            };
        }
        Value::String(_) => {
            *node = match rng.random_range(0..10) {
                0 => Value::from("a".repeat(10_000)),
                1 => number(rng, None),
                2 => simple(rng),
                _ => Value::from(STRINGS[rng.random_range(0..STRINGS.len())]),
            };
        }
        Value::Bool(b) => {
            *node = if rng.random_bool(0.7) {
                Value::Bool(!*b)
            } else {
                simple(rng)
            };
        }
        Value::Null => *node = simple(rng),
        Value::Array(a) => match rng.random_range(0..8) {
            0 if !a.is_empty() => {
                let i = rng.random_range(0..a.len());
                a.remove(i);
            }
            1 if !a.is_empty() && a.len() < 100_000 => {
                let i = rng.random_range(0..a.len());
                let c = a[i].clone();
                a.insert(i, c);
            }
            2 => a.push(simple(rng)),
            3 => a.clear(),
            4 => a.reverse(),
            5 => {
                // Inflate a shape: every number times a power of two, or one set huge.
                let k = rng.random_range(1..40u32);
                let one = rng.random_bool(0.5);
                let j = if a.is_empty() {
                    0
                } else {
                    rng.random_range(0..a.len())
                };
                for (i, x) in a.iter_mut().enumerate() {
                    if let Some(u) = x.as_u64() {
                        if !one {
                            *x = Value::from(u.saturating_mul(1 << k));
                        } else if i == j {
                            *x = number(rng, Some(u as f64));
                        }
                    }
                }
            }
            6 if !a.is_empty() && a.len() < 100_000 => {
                // Lengthen by repeating the whole array.
                let c = a.clone();
                a.extend(c);
            }
            _ => *node = simple(rng),
        },
        Value::Object(m) => match rng.random_range(0..6) {
            0 | 1 if !m.is_empty() => {
                let keys: Vec<String> = m.keys().cloned().collect();
                let k = &keys[rng.random_range(0..keys.len())];
                m.remove(k);
            }
            2 => {
                let k = KEYS[rng.random_range(0..KEYS.len())];
                let val = simple(rng);
                m.insert(k.to_string(), val);
            }
            3 if !m.is_empty() => {
                // A key's value copied to another key (types meet places they do not belong).
                let keys: Vec<String> = m.keys().cloned().collect();
                let a = &keys[rng.random_range(0..keys.len())];
                let b = &keys[rng.random_range(0..keys.len())];
                let val = m[a].clone();
                m.insert(b.clone(), val);
            }
            4 => *node = Value::Array(m.values().cloned().collect()),
            _ => *node = simple(rng),
        },
    }
}

/// Structure-aware mutation of a JSON part; false (and `d` unchanged) if it is not JSON.
pub fn json(rng: &mut R, d: &mut Vec<u8>) -> bool {
    let Ok(mut v) = serde_json::from_slice::<Value>(d) else {
        return false;
    };
    let n = 1 + (rng.random_range(0..4u32) == 0) as usize * rng.random_range(1..4usize);
    for _ in 0..n {
        json_value(rng, &mut v);
    }
    let out = if rng.random_bool(0.5) {
        serde_json::to_vec(&v)
    } else {
        serde_json::to_vec_pretty(&v)
    };
    match out {
        Ok(o) if o.len() <= MAX_PART => {
            *d = o;
            true
        }
        _ => false,
    }
}

/// Safetensors-aware mutation: the header JSON (length prefix kept consistent half of the
/// time), the length prefix alone, or special values in the tensor data. False if `d` is not
/// a safetensors file.
pub fn safetensors(rng: &mut R, d: &mut Vec<u8>) -> bool {
    if d.len() < 8 {
        return false;
    }
    let n = u64::from_le_bytes(d[..8].try_into().unwrap());
    if n > (d.len() - 8) as u64 {
        return false;
    }
    let n = n as usize;
    match rng.random_range(0..4) {
        0 | 1 => {
            let mut header = d[8..8 + n].to_vec();
            if !json(rng, &mut header) {
                bytes(rng, &mut header, &[]);
            }
            let prefix = if rng.random_bool(0.5) {
                header.len() as u64
            } else if rng.random_bool(0.5) {
                n as u64
            } else {
                pick_interesting(rng, header.len())
            };
            let mut out = prefix.to_le_bytes().to_vec();
            out.extend_from_slice(&header);
            out.extend_from_slice(&d[8 + n..]);
            *d = out;
        }
        2 => {
            let v = pick_interesting(rng, d.len());
            d[..8].copy_from_slice(&v.to_le_bytes());
        }
        _ => {
            // Special numbers in the data: NaN, infinities, extremes, the smallest subnormal.
            const S: [u32; 12] = [
                0x7fc0_0000,
                0x7f80_0001,
                0x7f80_0000,
                0xff80_0000,
                0x7f7f_ffff,
                0xff7f_ffff,
                0x0000_0001,
                0x8000_0000,
                0x8000_0000,
                0x7fff_ffff,
                0xffff_ffff,
                0,
            ];
            let data = d.len() - 8 - n;
            if data >= 4 {
                let k = rng.random_range(1..=4usize);
                for _ in 0..k {
                    let i = 8 + n + 4 * rng.random_range(0..data / 4);
                    let v = S[rng.random_range(0..S.len())];
                    d[i..i + 4].copy_from_slice(&v.to_le_bytes());
                }
            }
        }
    }
    true
}

/// HDF5-aware mutation: find a field that looks like a file address or a size (a little-endian
/// 8-, 4- or 2-byte value below the file length) and push it to a boundary. HDF5 superblocks,
/// object headers, B-trees and heaps are full of such fields.
pub fn hdf5(rng: &mut R, d: &mut [u8]) -> bool {
    let len = d.len();
    let w = [8usize, 8, 4, 2][rng.random_range(0..4)];
    if len < w + 8 {
        return false;
    }
    for _ in 0..200 {
        let i = rng.random_range(8..=len - w);
        let v = get_int(d, i, w, false);
        if v == 0 || v >= len as u64 {
            continue;
        }
        let new = match rng.random_range(0..10) {
            0 => 0,
            1 => v + 1,
            2 => v - 1,
            3 => len as u64,
            4 => len as u64 + 8,
            5 => u64::MAX,
            6 => v.saturating_mul(2),
            7 => v ^ (1 << rng.random_range(0..(8 * w as u32))),
            8 => 1 << 40,
            _ => rng.random_range(0..len as u64),
        };
        put_int(d, i, w, new, false);
        return true;
    }
    false
}

/// How many mutations to stack: 1 (half of the time), 2, 4 or 8.
pub fn stack(rng: &mut R) -> usize {
    if rng.random_bool(0.5) {
        1
    } else {
        1 << rng.random_range(1..4)
    }
}
