fn main() -> std::process::ExitCode {
    kvet::cli::run()
}
