use crate::error::{Error, Result};

#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_args: Args) -> Result<()> {
    Err(Error::tool("'decouple' is not built yet"))
}
