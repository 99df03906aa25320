"""Journal-entry testing: the tests PCAOB AS 2401 (.58-.62) and ISA 240 (.32, A41-A45) call for.

- ``catalogue``: the 23 tests, each with its rationale, source, settings and default weight;
- ``settings``: ``JETestSettings``, from a TOML/YAML/JSON file or the engagement, with defaults for any ledger;
- ``population``: the whole-population passes over the lines (account profile, journal summary);
- ``stats``: population statistics over the journal summary (users, pairs, duplicates, gaps, ...);
- ``facts``: the entity's reference points (materiality, calendar, approval limits), each with its basis;
- ``rules``: the entry tests; ``anomaly_model``: the unsupervised score; ``scoring``: the composite risk;
- ``digits``: Nigrini's digit tests (``benford_outlier``);
- ``analyze``: population checks first, then the battery, on the local or the Ray engine;
- ``run``: one recorded run (inputs, outputs, the store's run and findings), for the CLI and the Ray job.
"""
