"""Journal-entry testing: the tests PCAOB AS 2401 (.58-.62) and ISA 240 (.32, A41-A45) call for."""
