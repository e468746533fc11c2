// A full check spends a quarter of its time in glibc's malloc/free (YAML trees, JSON values
// for schema validation, compiled schemas); with mimalloc the corpus checks 1.2x (1.3x with
// CRDs) faster.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // regorus reports conditions it recovers from (thousands per run) as `anyhow` errors,
    // which capture a backtrace when RUST_BACKTRACE is set, as it is in many Rust developers'
    // shells: a third more time for nothing kvet shows. Panics still honour RUST_BACKTRACE.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // SAFETY: the first thing the process does, before any thread is started.
        unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    }
    kvet::cli::run()
}
