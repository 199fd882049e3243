//! File-system helpers: private directories, bounded reads and atomic, durable writes.
//!
//! Every write goes to a temporary file in the destination directory, is flushed to
//! disk, renamed over the destination and followed by a flush of the directory, so a
//! crash leaves either the old file or the new one, never a torn one.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

use crate::error::WalletError;

/// Creates `dir` (and missing parents) readable by the owner only on unix.
///
/// An existing directory is left as it is.
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), WalletError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|err| WalletError::io(dir, err))
}

/// Reads the regular file at `path` if it exists, refusing one above `limit_bytes`.
///
/// The size is checked before reading and the read itself is capped, so a file that
/// grows meanwhile cannot make it allocate more than `limit_bytes + 1` bytes.
pub(crate) fn read_bounded(path: &Path, limit_bytes: u64) -> Result<Option<Vec<u8>>, WalletError> {
    // Checking the type first keeps `open` from blocking on a FIFO planted there.
    let metadata = match fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(WalletError::io(path, err)),
    };
    if !metadata.is_file() {
        return Err(WalletError::corrupt(path, "not a regular file"));
    }
    let too_large = |size_bytes| WalletError::FileTooLarge {
        path: path.to_path_buf(),
        size_bytes,
        limit_bytes,
    };
    if metadata.len() > limit_bytes {
        return Err(too_large(metadata.len()));
    }
    let file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(WalletError::io(path, err)),
    };
    // The length is at most `limit_bytes` (1 MiB in this crate), which fits in usize.
    #[allow(clippy::cast_possible_truncation)]
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(limit_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|err| WalletError::io(path, err))?;
    // usize to u64 is lossless on every supported target.
    let read = bytes.len() as u64;
    if read > limit_bytes {
        return Err(too_large(read));
    }
    Ok(Some(bytes))
}

/// Writes `bytes` to `dir/name` atomically and durably, with mode 0600 on unix.
///
/// The temporary file is `dir/.name.tmp`; a stale one left by a crash is replaced.
/// Two processes writing the same file at once are not supported (the wallet has a
/// single writer).
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), WalletError> {
    let tmp_path = dir.join(format!(".{name}.tmp"));
    let final_path = dir.join(name);
    match fs::remove_file(&tmp_path) {
        Ok(()) => {}
        Err(err) if err.kind() == io::ErrorKind::NotFound => {}
        Err(err) => return Err(WalletError::io(&tmp_path, err)),
    }
    let result = write_new_file(&tmp_path, bytes).and_then(|()| {
        fs::rename(&tmp_path, &final_path).map_err(|err| WalletError::io(&final_path, err))
    });
    if let Err(err) = result {
        // Best effort: the write already failed and that error is the one to report.
        let _ = fs::remove_file(&tmp_path);
        return Err(err);
    }
    sync_dir(dir)
}

/// Creates `path` (which must not exist), writes `bytes` and flushes them to disk.
fn write_new_file(path: &Path, bytes: &[u8]) -> Result<(), WalletError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|err| WalletError::io(path, err))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|err| WalletError::io(path, err))
}

/// Removes `dir/name` durably; `false` when it did not exist.
pub(crate) fn remove_durable(dir: &Path, name: &str) -> Result<bool, WalletError> {
    let path = dir.join(name);
    match fs::remove_file(&path) {
        Ok(()) => sync_dir(dir).map(|()| true),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(err) => Err(WalletError::io(&path, err)),
    }
}

/// Flushes a directory's entries, making a rename or removal in it durable.
fn sync_dir(dir: &Path) -> Result<(), WalletError> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|handle| handle.sync_all())
            .map_err(|err| WalletError::io(dir, err))?;
    }
    // Elsewhere directories cannot be opened this way; the rename is still atomic.
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_bounded_read_refuses_large_files() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        write_atomic(dir.path(), "f", b"one").expect("first write");
        write_atomic(dir.path(), "f", b"two").expect("second write");
        let path = dir.path().join("f");
        assert_eq!(
            read_bounded(&path, 3).expect("read").as_deref(),
            Some(&b"two"[..])
        );
        assert!(matches!(
            read_bounded(&path, 2),
            Err(WalletError::FileTooLarge {
                size_bytes: 3,
                limit_bytes: 2,
                ..
            })
        ));
        assert!(read_bounded(&dir.path().join("missing"), 3)
            .expect("read")
            .is_none());
        assert!(matches!(
            read_bounded(dir.path(), 3),
            Err(WalletError::Corrupt { .. })
        ));
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("list")
            .map(|entry| entry.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["f"], "no temporary file is left behind");
        assert!(remove_durable(dir.path(), "f").expect("remove"));
        assert!(!remove_durable(dir.path(), "f").expect("remove again"));
    }
}
