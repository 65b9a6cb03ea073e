//! Pass: float network -> integer network (docs/semantics.md, "Quantization").
