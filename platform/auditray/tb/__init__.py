"""Trial-balance normalization."""
