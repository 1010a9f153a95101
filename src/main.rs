#![forbid(unsafe_code)]

// mimalloc for what Rust allocates (why: the dependency's comment in Cargo.toml); SQLite, built
// in C, keeps glibc's malloc (`src/arenas.rs`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    siseri::cli::run()
}
