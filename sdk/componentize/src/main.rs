//! `switchyard-componentize IN.wasm OUT.wasm`: turns a core wasm module that carries
//! wit-bindgen's `component-type` custom sections into a validated WebAssembly component.
//!
//! `switchyard-componentize --wit COMPONENT.wasm` prints the world a component imports and
//! exports, as WIT.
//!
//! Used by `scripts/build-adapters.sh` where the `wasm32-wasip2` target (which links
//! components directly) is not installed. Uses the `wit-component` generation whose
//! wasmparser matches wasmtime 48.0.8.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use wit_component::{ComponentEncoder, DecodedWasm, WitPrinter};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.as_slice() {
        [flag, path] if flag == "--wit" => print_wit(Path::new(path)),
        [input, output] if !input.starts_with('-') => {
            componentize(Path::new(input), Path::new(output))
        }
        _ => {
            eprintln!(
                "usage: switchyard-componentize IN.wasm OUT.wasm\n       \
                 switchyard-componentize --wit COMPONENT.wasm"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("switchyard-componentize: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn componentize(input: &Path, output: &Path) -> Result<()> {
    let bytes = std::fs::read(input).with_context(|| format!("reading {}", input.display()))?;
    if is_component(&bytes) {
        bail!("{} is already a component", input.display());
    }
    if !bytes.starts_with(b"\0asm") {
        bail!(
            "{} is not a wasm module (no \\0asm header)",
            input.display()
        );
    }
    let component = ComponentEncoder::default()
        .module(&bytes)
        .with_context(|| {
            format!(
                "reading the component-type sections of {} (was it built with wit-bindgen?)",
                input.display()
            )
        })?
        .validate(true)
        .encode()
        .with_context(|| format!("encoding {} as a component", input.display()))?;
    if !is_component(&component) {
        bail!("wit-component produced something that is not a component");
    }
    std::fs::write(output, &component).with_context(|| format!("writing {}", output.display()))?;
    Ok(())
}

/// A wasm binary whose layer field (bytes 6..8) is 1 is a component; 0 is a core module.
fn is_component(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && bytes.starts_with(b"\0asm") && bytes[6..8] == [1, 0]
}

fn print_wit(path: &Path) -> Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if !is_component(&bytes) {
        bail!("{} is not a component", path.display());
    }
    let decoded =
        wit_component::decode(&bytes).with_context(|| format!("decoding {}", path.display()))?;
    let (resolve, world) = match decoded {
        DecodedWasm::Component(resolve, world) => (resolve, world),
        DecodedWasm::WitPackage(..) => {
            bail!("{} is a WIT package, not a component", path.display())
        }
    };
    let package = resolve.worlds[world]
        .package
        .context("the decoded world has no package")?;
    let mut printer = WitPrinter::default();
    printer.print(&resolve, package, &[])?;
    println!("{}", printer.output);
    Ok(())
}
