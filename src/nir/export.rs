//! placeholder
use crate::error::Result;
pub struct ExportOptions;
pub struct Exported;
pub fn export(_: &ExportOptions) -> Result<Exported> { todo!() }
