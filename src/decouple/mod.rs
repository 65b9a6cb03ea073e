//! Pass: LIFB layers -> LIF arrays (docs/semantics.md, "Decoupling").
