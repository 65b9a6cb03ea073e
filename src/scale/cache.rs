//! The content-addressed result cache: a finished item's result stored under a hash of
//! everything that determines it (the model, the item's options, the tool versions and this
//! program's version), so a re-run, or another sweep or shard that shares the item, reads it
//! instead of redoing it.
//!
//! An entry is one file, `DIR/ab/abcdef....res`: a header line
//! `lifb-hdl result 1 <key> <sha256 of the payload>` and the payload. It is written to a private
//! temporary file and renamed into place ([`crate::util::write_atomic`]), so a reader sees a
//! whole entry or none, and two shards writing the same key each rename a complete file (the
//! last one stays; both hold the same result). A file that is truncated, edited, or holds another
//! key fails the header check: it is reported, removed and the item redone.

use crate::error::{Error, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::{Path, PathBuf};

const MAGIC: &str = "lifb-hdl result 1";
/// An entry larger than this is not one of ours.
const MAX_ENTRY_BYTES: u64 = 64 << 20;
/// Reads of an entry before it counts as damaged (a concurrent rename makes one read fail).
const READ_ATTEMPTS: u32 = 8;

/// What a lookup found.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    Hit(Vec<u8>),
    Miss,
    /// An entry exists but fails its check (why); it has been removed.
    Corrupt(String),
}

/// Counts of what lookups found (for the run's summary).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub corrupt: u64,
}

impl CacheStats {
    pub fn add(&mut self, o: &CacheStats) {
        self.hits += o.hits;
        self.misses += o.misses;
        self.corrupt += o.corrupt;
    }
}

/// "H hits, M misses, C corrupt entries redone".
impl std::fmt::Display for CacheStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} hits, {} misses, {} corrupt entries redone",
            self.hits, self.misses, self.corrupt
        )
    }
}

#[derive(Debug, Clone)]
pub struct ResultCache {
    dir: PathBuf,
    pub stats: CacheStats,
}

/// The key of an item: sha256 over this program ([`program_identity`]) and the given parts (each
/// length-prefixed, so no two part lists give the same bytes). The caller passes what else
/// determines the result: the model, the item's options, the external tools' versions.
pub fn key(parts: &[&[u8]]) -> Result<String> {
    let id = program_identity()?;
    let mut all: Vec<&[u8]> = vec![MAGIC.as_bytes(), id.as_bytes()];
    all.extend_from_slice(parts);
    Ok(crate::util::sha256_hex(&all))
}

/// This program's version and the sha256 of its executable: a result made by another build
/// (even of the same version, with a changed simulator or generator) is never taken for this
/// build's. Computed once per process.
pub fn program_identity() -> Result<String> {
    static ID: std::sync::OnceLock<std::result::Result<String, String>> =
        std::sync::OnceLock::new();
    ID.get_or_init(|| {
        let exe = std::env::current_exe().map_err(|e| format!("cannot locate this program: {e}"))?;
        let bytes = crate::util::read_limited(&exe, 4 << 30).map_err(|e| e.to_string())?;
        Ok(format!(
            "lifb-hdl {} {}",
            env!("CARGO_PKG_VERSION"),
            crate::util::sha256_plain_hex(&bytes)
        ))
    })
    .clone()
    .map_err(|why| Error::tool(format!("the result cache keys results by this program's executable, which cannot be read ({why}); run without the cache (--no-cache)")))
}

fn check_key(key: &str) -> Result<()> {
    if key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(Error::bad_input(format!(
            "result cache key '{key}' is not a sha256 hex digest (a bug: please report)"
        )))
    }
}

impl ResultCache {
    /// The cache in `dir` (created if missing).
    pub fn open(dir: &Path) -> Result<ResultCache> {
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::io(dir, e).context("creating the result cache (choose another with --cache)")
        })?;
        Ok(ResultCache {
            dir: dir.to_path_buf(),
            stats: CacheStats::default(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the entry of `key` lives.
    pub fn entry_path(&self, key: &str) -> PathBuf {
        self.dir.join(&key[..2]).join(format!("{key}.res"))
    }

    /// Look `key` up. A corrupt entry is removed (so that the redone result replaces it).
    pub fn get(&mut self, key: &str) -> Result<Lookup> {
        check_key(key)?;
        let path = self.entry_path(key);
        // A concurrent writer renames a whole new entry over the old one; a read that meets the
        // rename (the file changed between its check and its open) is tried again.
        let mut attempt = 0;
        let bytes = loop {
            match crate::util::read_limited(&path, MAX_ENTRY_BYTES) {
                Ok(b) => break b,
                Err(e) if e.io_kind() == Some(std::io::ErrorKind::NotFound) => {
                    self.stats.misses += 1;
                    return Ok(Lookup::Miss);
                }
                Err(_) if attempt < READ_ATTEMPTS => attempt += 1,
                Err(e) => {
                    // unreadable or over the limit every time: not an entry we can trust
                    return Ok(self.corrupt(&path, e.message));
                }
            }
        };
        match parse_entry(&bytes, key) {
            Ok(payload) => {
                self.stats.hits += 1;
                Ok(Lookup::Hit(payload.to_vec()))
            }
            Err(why) => Ok(self.corrupt(&path, why)),
        }
    }

    fn corrupt(&mut self, path: &Path, why: String) -> Lookup {
        self.stats.corrupt += 1;
        let _ = std::fs::remove_file(path);
        Lookup::Corrupt(format!("{}: {why}", path.display()))
    }

    /// Store `payload` under `key` (atomically; a concurrent writer of the same key is harmless).
    pub fn put(&self, key: &str, payload: &[u8]) -> Result<()> {
        check_key(key)?;
        let path = self.entry_path(key);
        let parent = path.parent().expect("entries live in a sub-folder");
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        let mut bytes =
            format!("{MAGIC} {key} {}\n", crate::util::sha256_plain_hex(payload)).into_bytes();
        bytes.extend_from_slice(payload);
        crate::util::write_atomic(&path, &bytes)
    }

    /// [`get`](Self::get) and decode JSON; an entry that does not decode counts as corrupt.
    pub fn get_json<T: DeserializeOwned>(&mut self, key: &str) -> Result<(Option<T>, Lookup)> {
        match self.get(key)? {
            Lookup::Hit(b) => match serde_json::from_slice(&b) {
                Ok(v) => Ok((Some(v), Lookup::Hit(b))),
                Err(e) => {
                    self.stats.hits -= 1;
                    let path = self.entry_path(key);
                    Ok((
                        None,
                        self.corrupt(&path, format!("payload does not decode: {e}")),
                    ))
                }
            },
            other => Ok((None, other)),
        }
    }

    pub fn put_json<T: Serialize>(&self, key: &str, value: &T) -> Result<()> {
        let bytes = serde_json::to_vec(value)
            .map_err(|e| Error::tool(format!("encoding a cache entry: {e}")))?;
        self.put(key, &bytes)
    }
}

/// The payload of an entry if its header names `key` and the payload's hash.
fn parse_entry<'a>(bytes: &'a [u8], key: &str) -> std::result::Result<&'a [u8], String> {
    let nl = bytes
        .iter()
        .position(|&b| b == b'\n')
        .ok_or("no header line (a partial write?)")?;
    let header = std::str::from_utf8(&bytes[..nl]).map_err(|_| "the header is not text")?;
    let rest = header
        .strip_prefix(MAGIC)
        .and_then(|r| r.strip_prefix(' '))
        .ok_or("not a lifb-hdl result entry")?;
    let (k, sum) = rest
        .split_once(' ')
        .ok_or("the header lacks the payload hash")?;
    if k != key {
        return Err(format!("it holds key {k}, not {key}"));
    }
    let payload = &bytes[nl + 1..];
    if crate::util::sha256_plain_hex(payload) != sum {
        return Err("the payload does not match its hash (truncated or altered)".into());
    }
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("lifb-cache-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn miss_then_hit() {
        let d = tmp("hit");
        let mut c = ResultCache::open(&d).unwrap();
        let k = key(&[b"model", b"point 1"]).unwrap();
        assert_ne!(k, key(&[b"model", b"point 2"]).unwrap());
        assert_ne!(
            key(&[b"ab", b"c"]).unwrap(),
            key(&[b"a", b"bc"]).unwrap(),
            "parts are delimited"
        );
        assert_eq!(c.get(&k).unwrap(), Lookup::Miss);
        c.put(&k, b"{\"cycles\": 42}").unwrap();
        assert_eq!(
            c.get(&k).unwrap(),
            Lookup::Hit(b"{\"cycles\": 42}".to_vec())
        );
        assert_eq!(
            c.stats,
            CacheStats {
                hits: 1,
                misses: 1,
                corrupt: 0
            }
        );
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn corrupt_entries_are_detected_removed_and_redone() {
        let d = tmp("corrupt");
        let mut c = ResultCache::open(&d).unwrap();
        let k = key(&[b"x"]).unwrap();
        let payload = b"{\"spike_exact\": true, \"cycles\": 1234}";
        let p = c.entry_path(&k);
        type Damage = Box<dyn Fn(&[u8]) -> Vec<u8>>;
        let mut damages: Vec<(&str, Damage)> = vec![
            ("truncated", Box::new(|b| b[..b.len() - 3].to_vec())),
            (
                "header only",
                Box::new(|b| b[..b.iter().position(|&x| x == b'\n').unwrap()].to_vec()),
            ),
            ("empty", Box::new(|_| Vec::new())),
            (
                "payload edited",
                Box::new(|b| {
                    let mut v = b.to_vec();
                    let n = v.len();
                    v[n - 2] = b'5';
                    v
                }),
            ),
            (
                "another key",
                Box::new(|b| {
                    let s = String::from_utf8(b.to_vec()).unwrap();
                    s.replace(&key(&[b"x"]).unwrap(), &key(&[b"y"]).unwrap())
                        .into_bytes()
                }),
            ),
        ];
        for (what, damage) in damages.drain(..) {
            c.put(&k, payload).unwrap();
            let good = std::fs::read(&p).unwrap();
            std::fs::write(&p, damage(&good)).unwrap();
            match c.get(&k).unwrap() {
                Lookup::Corrupt(why) => assert!(why.contains(&k), "{what}: {why}"),
                other => panic!("{what}: {other:?}"),
            }
            assert!(!p.exists(), "{what}: the corrupt entry is removed");
            assert_eq!(c.get(&k).unwrap(), Lookup::Miss, "{what}");
            c.put(&k, payload).unwrap(); // redone
            assert_eq!(c.get(&k).unwrap(), Lookup::Hit(payload.to_vec()), "{what}");
        }
        // a payload that passes the hash check but is not the expected JSON also counts as corrupt
        c.put(&k, b"not json").unwrap();
        let (v, l) = c.get_json::<serde_json::Value>(&k).unwrap();
        assert!(v.is_none() && matches!(l, Lookup::Corrupt(_)), "{l:?}");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn concurrent_writers_of_one_key_leave_a_whole_entry() {
        let d = tmp("concurrent");
        let k = key(&[b"shared point"]).unwrap();
        // a payload large enough that a torn write would show
        let payload: Vec<u8> = (0..200_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    let c = ResultCache::open(&d).unwrap();
                    for _ in 0..10 {
                        c.put(&k, &payload).unwrap();
                    }
                });
            }
            s.spawn(|| {
                let mut c = ResultCache::open(&d).unwrap();
                for _ in 0..200 {
                    match c.get(&k).unwrap() {
                        Lookup::Hit(b) => assert_eq!(b, payload),
                        Lookup::Miss => {}
                        Lookup::Corrupt(why) => panic!("a reader saw a torn entry: {why}"),
                    }
                }
            });
        });
        let mut c = ResultCache::open(&d).unwrap();
        assert_eq!(c.get(&k).unwrap(), Lookup::Hit(payload.clone()));
        // no temporary file is left behind
        let files: Vec<_> = std::fs::read_dir(c.entry_path(&k).parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        let _ = std::fs::remove_dir_all(&d);
    }
}
