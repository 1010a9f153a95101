#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    siseri::cli::run()
}
