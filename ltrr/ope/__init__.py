"""Off-policy evaluation of logged decisions (``ltrr ope``), checked against ground truth.

- :mod:`.schema`: the logged-data format and the reader (Parquet, CSV, JSON Lines);
- :mod:`.validation`: checks on logs, one exact message per problem;
- :mod:`.target`: evaluation policies (built-in, trained on part of the logs, or a file);
- :mod:`.estimators`: obp's estimators, reward model, cross-fitting, bootstrap, SLOPE;
- :mod:`.report`: the table and JSON record; :mod:`.cli`: the command;
- :mod:`.synthetic`: logs with an exact truth (tests, examples, speed benchmark);
- :mod:`.groundtruth`: off-policy estimates vs on-policy runs in ltrr's simulator.
"""
