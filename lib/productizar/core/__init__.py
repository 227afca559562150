"""The core: the HU file, the environments, the naming rules, errors and input problems, paths, files and
the scrubber. It imports nothing else of productizar; every other room stands on it."""
