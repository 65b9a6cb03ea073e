//! placeholder
use crate::error::{Error, Result};
use std::path::Path;
pub struct StateDictImport { pub network: crate::ir::FloatNetwork, pub warnings: Vec<String>, pub summary: String }
pub fn import_state_dict(_w: &Path, _a: &Path, _n: Option<&str>) -> Result<StateDictImport> { Err(Error::tool("todo")) }
