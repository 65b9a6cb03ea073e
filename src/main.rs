fn main() {
    std::process::exit(lifb_hdl::cli::main());
}
