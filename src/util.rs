//! Small file helpers shared by every stage: the one way user files are read
//! ([`read_limited`]: regular files only, size-capped) and the one way outputs are written
//! ([`write_atomic`], [`write_atomic_all`]: exclusive temp file, fsync, rename), plus the check
//! that outputs never alias inputs or each other ([`check_outputs`]).

use crate::error::{Error, ErrorKind, Result};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

/// Write a file so that a reader never sees a partial one: an exclusively created sibling temp
/// file (unpredictable name, never through a symlink), written, fsynced, then renamed over `path`.
/// On every error the temp file is removed and `path` is untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_all(&[(path, bytes)])
}

/// Write several files as one output (a model's manifest and tensors): every file is first
/// written to its own temp file; only when all are complete are they renamed into place, in the
/// order given. If a rename fails, the files already renamed are rolled back (the previous
/// version restored, or the new file removed), so a failure leaves neither a half-written set
/// nor a stray file.
pub fn write_atomic_all(files: &[(&Path, &[u8])]) -> Result<()> {
    let mut temps: Vec<PathBuf> = Vec::with_capacity(files.len());
    let cleanup = |temps: &[PathBuf]| {
        for t in temps {
            let _ = std::fs::remove_file(t);
        }
    };
    for (path, bytes) in files {
        match write_temp(path, bytes) {
            Ok(t) => temps.push(t),
            Err(e) => {
                cleanup(&temps);
                return Err(e);
            }
        }
    }
    // Keep the previous version of each target (a hard link) until every rename succeeded.
    // (whether the target existed, its backup if one could be made)
    let mut backups: Vec<(bool, Option<PathBuf>)> = Vec::with_capacity(files.len());
    for (path, _) in files {
        let existed = std::fs::symlink_metadata(path).is_ok();
        let b = if files.len() > 1 && existed {
            let b = temp_name(path, "old");
            std::fs::hard_link(path, &b).ok().map(|_| b)
        } else {
            None
        };
        backups.push((existed, b));
    }
    let drop_backups = |backups: &[(bool, Option<PathBuf>)]| {
        for b in backups.iter().filter_map(|b| b.1.as_ref()) {
            let _ = std::fs::remove_file(b);
        }
    };
    for (k, ((path, _), tmp)) in files.iter().zip(&temps).enumerate() {
        if let Err(e) = std::fs::rename(tmp, path) {
            // Roll back the renames done so far.
            for (j, (p, _)) in files.iter().enumerate().take(k) {
                match &backups[j] {
                    (_, Some(b)) => {
                        let _ = std::fs::rename(b, p);
                    }
                    (false, None) => {
                        let _ = std::fs::remove_file(p);
                    }
                    // Existed but could not be kept (no hard links here): the new file stays.
                    (true, None) => {}
                }
            }
            cleanup(&temps[k..]);
            drop_backups(&backups);
            return Err(Error::io(path, e));
        }
    }
    drop_backups(&backups);
    for (path, _) in files {
        sync_parent(path);
    }
    Ok(())
}

/// A sibling name for a temp file of `path`: hidden, with the process id and 64 random bits.
fn temp_name(path: &Path, what: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(
        ".{name}.{what}.{}.{:016x}",
        std::process::id(),
        rand::random::<u64>()
    ))
}

/// Create the temp file of `path` exclusively (O_CREAT | O_EXCL: never an existing file, never
/// through a symlink), write and fsync it. Returns its name; on error nothing is left behind.
fn write_temp(path: &Path, bytes: &[u8]) -> Result<PathBuf> {
    if path.file_name().is_none() {
        return Err(Error::bad_input(format!(
            "{}: not a file name to write to",
            path.display()
        )));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o644);
    }
    let mut tmp = temp_name(path, "tmp");
    let mut f = None;
    for _ in 0..8 {
        match opts.open(&tmp) {
            Ok(file) => {
                f = Some(file);
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                tmp = temp_name(path, "tmp");
            }
            Err(e) => return Err(Error::io(&tmp, e)),
        }
    }
    let Some(mut f) = f else {
        return Err(Error::io(
            &tmp,
            std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "could not create a fresh temp file",
            ),
        ));
    };
    let written = f.write_all(bytes).and_then(|_| f.sync_all());
    drop(f);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    Ok(tmp)
}

/// Make a rename durable (best effort: not every file system lets a directory be fsynced).
fn sync_parent(path: &Path) {
    let dir = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(d) => d,
        None => Path::new("."),
    };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Check that `path` is an existing regular file (symlinks followed) BEFORE it is opened: a FIFO
/// would block the open forever, a device (/dev/zero) never ends, a directory is no file.
pub fn check_regular_file(path: &Path) -> Result<std::fs::Metadata> {
    let md = std::fs::metadata(path).map_err(|e| Error::io(path, e).into_bad_input_if_missing())?;
    if md.is_file() {
        return Ok(md);
    }
    let what = if md.is_dir() {
        "a directory"
    } else {
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            let t = md.file_type();
            if t.is_fifo() {
                "a FIFO (named pipe)"
            } else if t.is_char_device() || t.is_block_device() {
                "a device"
            } else if t.is_socket() {
                "a socket"
            } else {
                "not a regular file"
            }
        }
        #[cfg(not(unix))]
        {
            "not a regular file"
        }
    };
    Err(Error::bad_input(format!(
        "{}: is {what}; give a regular file",
        path.display()
    )))
}

/// How many threads the parallel loops use: the machine's, at most 8.
pub fn worker_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8)
}

/// `f(first, part)` for `items` cut into at most `threads` contiguous parts (`first`: the index
/// of the part's first item), each part on a scoped thread of its own (a single part runs on this
/// thread). The results come in order; an error stops the loop with the first error in order.
pub fn par_chunks<I: Sync, R: Send>(
    items: &[I],
    threads: usize,
    f: impl Fn(usize, &[I]) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    let chunk = items.len().div_ceil(threads.max(1)).max(1);
    if items.len() <= chunk {
        return Ok(vec![f(0, items)?]);
    }
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .enumerate()
            .map(|(ci, part)| s.spawn(move || f(ci * chunk, part)))
            .collect();
        let parts: Vec<Result<R>> = handles
            .into_iter()
            .map(|h| h.join().expect("a worker thread panicked"))
            .collect();
        parts.into_iter().collect()
    })
}

/// Read the JSON file `path` (at most `limit` bytes) as a `T`; returns it with the file's bytes.
/// A file that does not parse is bad input: "PATH: not NOT_A (the parser's reason)HINT", e.g.
/// `not_a` "a sweep plan", `hint` "; make one with ...".
pub fn read_json<T: serde::de::DeserializeOwned>(
    path: &Path,
    limit: u64,
    not_a: &str,
    hint: &str,
) -> Result<(T, Vec<u8>)> {
    let bytes = read_limited(path, limit)?;
    match serde_json::from_slice(&bytes) {
        Ok(v) => Ok((v, bytes)),
        Err(e) => Err(Error::bad_input(format!(
            "{}: not {not_a} ({e}){hint}",
            path.display()
        ))),
    }
}

/// The format check of a file that names its format: `found` must be `expected` (bad input
/// otherwise, with `hint` appended to the message).
pub fn check_format(path: &Path, found: &str, expected: &str, hint: &str) -> Result<()> {
    if found == expected {
        return Ok(());
    }
    Err(Error::bad_input(format!(
        "{}: format '{found}', this lifb-hdl reads '{expected}'{hint}",
        path.display()
    )))
}

/// The `.json` files in the folder `dir`, sorted (entries that cannot be read are passed over).
pub fn json_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    Ok(paths)
}

/// Read a whole user file: only a regular file (checked before opening, and again on the open
/// file), refusing files larger than `limit` bytes (untrusted input). The one reader of user files.
pub fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let before = check_regular_file(path)?;
    let f = File::open(path).map_err(|e| Error::io(path, e).into_bad_input_if_missing())?;
    let md = f.metadata().map_err(|e| Error::io(path, e))?;
    #[cfg(unix)]
    let same = {
        use std::os::unix::fs::MetadataExt;
        md.dev() == before.dev() && md.ino() == before.ino()
    };
    #[cfg(not(unix))]
    let same = true;
    if !md.is_file() || !same {
        return Err(Error::bad_input(format!(
            "{}: changed while being opened; give a regular file that is not being replaced",
            path.display()
        )));
    }
    let len = md.len();
    let too_big = |len: u64| {
        Error::bad_input(format!(
            "{}: {len} bytes is larger than the {limit}-byte limit for this kind of file",
            path.display()
        ))
    };
    if len > limit {
        return Err(too_big(len));
    }
    let mut buf = Vec::with_capacity(len as usize);
    f.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(path, e))?;
    if buf.len() as u64 > limit {
        return Err(too_big(buf.len() as u64));
    }
    Ok(buf)
}

/// Hex sha256 of some byte strings, each preceded by its length (u64, little-endian), so that
/// the parts' boundaries are part of the hash. Used for content keys (model hash, caches).
pub fn sha256_hex(parts: &[&[u8]]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    hex(&h.finalize())
}

/// The plain hex sha256 of some bytes (what `sha256sum` prints for a file).
pub fn sha256_plain_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(bytes))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

impl Error {
    /// A missing input file is the user's mistake (exit 2), not an I/O failure.
    pub fn into_bad_input_if_missing(self) -> Self {
        if self.io_kind() == Some(std::io::ErrorKind::NotFound) {
            Error {
                kind: ErrorKind::BadInput,
                ..self
            }
        } else {
            self
        }
    }
}

/// The absolute path `p` names, with symlinks resolved as far as it exists (a file that does not
/// exist yet: its deepest existing ancestor canonicalized, the rest appended). Two paths that
/// give the same result are the same file.
pub fn resolved_path(p: &Path) -> PathBuf {
    if let Ok(c) = std::fs::canonicalize(p) {
        return c;
    }
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    // Lexically normalize (`a/./b`, `a/x/../b`) the part that does not exist.
    let mut norm = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                norm.pop();
            }
            other => norm.push(other.as_os_str()),
        }
    }
    let mut tail = Vec::new();
    let mut head = norm.as_path();
    loop {
        if let Ok(c) = std::fs::canonicalize(head) {
            let mut out = c;
            for t in tail.iter().rev() {
                out.push(t);
            }
            return out;
        }
        match (head.parent(), head.file_name()) {
            (Some(parent), Some(name)) => {
                tail.push(name.to_os_string());
                head = parent;
            }
            _ => return norm,
        }
    }
}

/// Refuse outputs that would destroy an input or each other, before anything is computed or
/// written: every output is compared (resolved, see [`resolved_path`]) with every input and every
/// other output. An output that exists as a directory, FIFO or device is refused too. `inputs`
/// and `outputs` are (path, role) pairs; the role names the option in the message.
pub fn check_outputs(inputs: &[(PathBuf, String)], outputs: &[(PathBuf, String)]) -> Result<()> {
    for (p, role) in outputs {
        if let Ok(md) = std::fs::metadata(p) {
            if md.is_dir() {
                return Err(Error::bad_input(format!(
                    "{}: {role} is an existing directory; give a file name (nothing was written)",
                    p.display()
                )));
            }
            if !md.is_file() {
                return Err(Error::bad_input(format!(
                    "{}: {role} exists and is not a regular file (a FIFO or device); give a file name (nothing was written)",
                    p.display()
                )));
            }
        }
    }
    let ins: Vec<(PathBuf, &(PathBuf, String))> =
        inputs.iter().map(|i| (resolved_path(&i.0), i)).collect();
    let outs: Vec<(PathBuf, &(PathBuf, String))> =
        outputs.iter().map(|o| (resolved_path(&o.0), o)).collect();
    for (k, (ro, (po, role_o))) in outs.iter().enumerate() {
        if let Some((_, (pi, role_i))) = ins.iter().find(|(ri, _)| ri == ro) {
            return Err(Error::bad_input(format!(
                "{role_o} {} would overwrite {role_i} {}; choose another output name (nothing was written)",
                po.display(),
                pi.display()
            )));
        }
        if let Some((_, (p2, role2))) = outs[..k].iter().find(|(r2, _)| r2 == ro) {
            return Err(Error::bad_input(format!(
                "{role_o} {} and {role2} {} are the same file; choose another output name (nothing was written)",
                po.display(),
                p2.display()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("lifb-util-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn par_chunks_keeps_order_and_returns_the_first_error() {
        let items: Vec<usize> = (0..10).collect();
        for threads in [0, 1, 3, 8, 20] {
            let parts = par_chunks(&items, threads, |first, part| {
                assert_eq!(
                    part[0], first,
                    "first is the index of the part's first item"
                );
                Ok(part.to_vec())
            })
            .unwrap();
            assert!(parts.len() <= threads.max(1));
            assert_eq!(parts.concat(), items, "{threads} threads");
        }
        let e = par_chunks(&items, 5, |first, _| match first {
            0 => Ok(()),
            f => Err(Error::bad_input(format!("part at {f}"))),
        })
        .unwrap_err();
        assert!(e.to_string().contains("part at 2"), "{e}");
        let none: Vec<usize> = Vec::new();
        assert_eq!(par_chunks(&none, 4, |_, p| Ok(p.len())).unwrap(), [0]);
    }

    #[test]
    fn json_files_read_json_and_check_format() {
        let d = scratch("json");
        for (name, text) in [
            ("b.json", "{\"format\": \"x 1\"}"),
            ("a.json", "[1, 2]"),
            ("c.txt", ""),
        ] {
            std::fs::write(d.join(name), text).unwrap();
        }
        let files = json_files(&d).unwrap();
        assert_eq!(files, [d.join("a.json"), d.join("b.json")]);
        let (v, bytes): (Vec<u32>, _) = read_json(&files[0], 1 << 10, "a list", "").unwrap();
        assert_eq!((v, bytes), (vec![1, 2], b"[1, 2]".to_vec()));
        let e = read_json::<Vec<u32>>(&files[1], 1 << 10, "a list", "; make one").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with(&format!("{}: not a list (", files[1].display())),
            "{msg}"
        );
        assert!(msg.ends_with("; make one"), "{msg}");
        assert!(check_format(&files[1], "x 1", "x 1", "").is_ok());
        let e = check_format(&files[1], "x 0", "x 1", "; again").unwrap_err();
        assert!(
            e.to_string()
                .ends_with("format 'x 0', this lifb-hdl reads 'x 1'; again"),
            "{e}"
        );
        assert!(json_files(&d.join("missing")).is_err());
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn atomic_write_leaves_no_temp_and_refuses_a_directory_target() {
        let d = scratch("atomic");
        let p = d.join("a.txt");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        // A directory in the way: the rename fails, the temp file is removed.
        let dirp = d.join("sub");
        std::fs::create_dir_all(dirp.join("x")).unwrap();
        assert!(write_atomic(&dirp, b"three").is_err());
        // A pair where the second target cannot be replaced: the first is rolled back.
        let a = d.join("m.safetensors");
        write_atomic(&a, b"old").unwrap();
        assert!(write_atomic_all(&[(&a, b"new"), (&dirp, b"x")]).is_err());
        assert_eq!(std::fs::read(&a).unwrap(), b"old");
        let fresh = d.join("fresh.bin");
        assert!(write_atomic_all(&[(&fresh, b"new"), (&dirp, b"x")]).is_err());
        assert!(!fresh.exists());
        let mut names: Vec<String> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["a.txt", "m.safetensors", "sub"]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn read_limited_refuses_non_files_and_big_files() {
        let d = scratch("read");
        let e = read_limited(&d, 10).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.message.contains("directory"), "{e}");
        let e = read_limited(&d.join("missing"), 10).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert_eq!(e.io_kind(), Some(std::io::ErrorKind::NotFound));
        assert!(std::error::Error::source(&e).is_some());
        let p = d.join("f");
        std::fs::write(&p, b"12345").unwrap();
        assert_eq!(read_limited(&p, 5).unwrap(), b"12345");
        assert_eq!(read_limited(&p, 4).unwrap_err().exit_code(), 2);
        #[cfg(unix)]
        {
            let e = read_limited(Path::new("/dev/zero"), 10).unwrap_err();
            assert!(e.message.contains("device"), "{e}");
        }
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn outputs_may_not_alias() {
        let d = scratch("alias");
        let m = d.join("m.json");
        std::fs::write(&m, b"{}").unwrap();
        let ins = [(m.clone(), "--model".to_string())];
        let same = d.join(".").join("m.json");
        assert!(check_outputs(&ins, &[(same, "-o".into())]).is_err());
        assert!(check_outputs(&ins, &[(d.join("x/../m.json"), "-o".into())]).is_err());
        assert!(check_outputs(&ins, &[(d.clone(), "-o".into())]).is_err());
        let o = d.join("o.json");
        assert!(check_outputs(&ins, &[(o.clone(), "-o".into())]).is_ok());
        assert!(check_outputs(&ins, &[(o.clone(), "a".into()), (o, "b".into())]).is_err());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn plain_sha256_is_sha256sum() {
        assert_eq!(
            sha256_plain_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
