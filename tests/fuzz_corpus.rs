//! Every committed fuzz input (the seed corpora and the crash regressions under `fuzz/`)
//! through the same entry points the fuzz targets call: each must return without panicking,
//! and where a target compares two decoders, they must agree.

use std::path::Path;

#[test]
fn every_corpus_and_regression_input_passes_its_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    for (name, target) in mako::fuzzing::TARGETS {
        let mut inputs = 0;
        for kind in ["corpus", "regressions"] {
            let dir = root.join(kind).join(name);
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries {
                let path = e.unwrap().path();
                let data = std::fs::read(&path).unwrap();
                let ok = std::panic::catch_unwind(|| target(&data));
                assert!(ok.is_ok(), "{name}: {} fails", path.display());
                inputs += 1;
            }
        }
        assert!(
            inputs > 0,
            "{name}: no committed input under fuzz/corpus/{name}"
        );
    }
}

#[test]
fn every_target_has_its_fuzz_binary() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/fuzz_targets");
    for (name, _) in mako::fuzzing::TARGETS {
        let file = dir.join(format!("{name}.rs"));
        let text =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(
            text.contains(&format!("mako::fuzzing::{name}(")),
            "{} does not call mako::fuzzing::{name}",
            file.display()
        );
    }
}
