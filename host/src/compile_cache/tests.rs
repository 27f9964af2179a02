//! The cache's directory rules, and that wasmtime finds, refuses and replaces its entries.

use std::os::unix::fs::PermissionsExt;

use wasmtime::component::Component;
use wasmtime::Engine;

use super::*;

/// A component with a core module of its own, so compiling it makes code to cache.
const WAT: &str = r#"
(component
  (core module $m (func (export "add") (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.add))
  (core instance $i (instantiate $m))
  (func (export "add") (param "a" s32) (param "b" s32) (result s32)
    (canon lift (core func $i "add")))
)
"#;

fn compile_with(cache: &CompileCache) {
    let mut config = wasmtime::Config::new();
    config.wasm_component_model(true);
    config.cache(Some(cache.wasmtime_cache()));
    let engine = Engine::new(&config).expect("engine");
    Component::new(&engine, WAT).expect("the test component compiles");
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[test]
fn a_new_directory_is_created_for_the_host_alone() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("a/b/compiled");
    let cache = CompileCache::open(&dir).expect("opens");
    let mode = std::fs::metadata(&dir)
        .expect("created")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o700);
    assert_eq!(cache.dir(), dir.canonicalize().expect("canonical"));
    assert_eq!(cache.stats(), CompileCacheStats::default());
}

#[test]
fn a_directory_others_may_write_is_refused() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("shared");
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let e = CompileCache::open(&dir)
        .expect_err("world-writable")
        .to_string();
    assert!(e.contains("others may write it (mode 777)"), "{e}");
    assert!(e.contains("runtime.compile_cache"), "{e}");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o770)).expect("chmod");
    let e = CompileCache::open(&dir)
        .expect_err("group-writable")
        .to_string();
    assert!(e.contains("mode 770"), "{e}");
}

#[test]
fn a_link_or_a_file_is_refused() {
    let root = tempfile::tempdir().expect("tempdir");
    let real = root.path().join("real");
    std::fs::create_dir(&real).expect("mkdir");
    let link = root.path().join("link");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    let e = CompileCache::open(&link).expect_err("a link").to_string();
    assert!(e.contains("symbolic link"), "{e}");
    let file = root.path().join("file");
    std::fs::write(&file, b"x").expect("write");
    let e = CompileCache::open(&file).expect_err("a file").to_string();
    assert!(
        e.contains("cannot create it") || e.contains("not a directory"),
        "{e}"
    );
}

#[test]
fn a_second_engine_loads_what_the_first_compiled() {
    let root = tempfile::tempdir().expect("tempdir");
    let first = CompileCache::open(root.path()).expect("opens");
    compile_with(&first);
    assert_eq!(first.stats(), CompileCacheStats { hits: 0, misses: 1 });
    assert!(!files_under(root.path()).is_empty(), "an entry was stored");

    let second = CompileCache::open(root.path()).expect("opens again");
    compile_with(&second);
    assert_eq!(second.stats(), CompileCacheStats { hits: 1, misses: 0 });
    // Reported once, then nothing new.
    assert_eq!(
        second.unreported(),
        CompileCacheStats { hits: 1, misses: 0 }
    );
    assert_eq!(second.unreported(), CompileCacheStats::default());
}

#[test]
fn an_entry_that_does_not_load_is_compiled_afresh_and_replaced() {
    let root = tempfile::tempdir().expect("tempdir");
    compile_with(&CompileCache::open(root.path()).expect("opens"));
    let entries = files_under(root.path());
    assert!(!entries.is_empty());
    for (i, entry) in entries.iter().enumerate() {
        // Planted garbage: a truncated zstd frame, then plain junk.
        let junk: &[u8] = if i % 2 == 0 {
            b"\x28\xb5\x2f\xfd\x00"
        } else {
            b"\x7fELF not code"
        };
        std::fs::write(entry, junk).expect("overwrite");
    }
    let after_garbage = CompileCache::open(root.path()).expect("opens");
    compile_with(&after_garbage);
    assert_eq!(
        after_garbage.stats(),
        CompileCacheStats { hits: 0, misses: 1 }
    );

    let after_repair = CompileCache::open(root.path()).expect("opens");
    compile_with(&after_repair);
    assert_eq!(
        after_repair.stats(),
        CompileCacheStats { hits: 1, misses: 0 }
    );
}

#[test]
fn another_engine_setting_does_not_find_the_entry() {
    let root = tempfile::tempdir().expect("tempdir");
    compile_with(&CompileCache::open(root.path()).expect("opens"));
    let other = CompileCache::open(root.path()).expect("opens");
    let mut config = wasmtime::Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config.cache(Some(other.wasmtime_cache()));
    let engine = Engine::new(&config).expect("engine");
    Component::new(&engine, WAT).expect("compiles");
    assert_eq!(other.stats(), CompileCacheStats { hits: 0, misses: 1 });
}
