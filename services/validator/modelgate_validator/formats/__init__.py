"""Inspectors of model file formats. None of them executes or unpickles anything."""
