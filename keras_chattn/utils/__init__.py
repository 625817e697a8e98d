"""Helpers every part of the package shares, each defined once.

- `validation`: argument checks whose errors name the argument, what was
  expected and the value received.
- `layout`: channel and spatial axes of `channels_last` / `channels_first`
  maps.
- `environment`: optional packages (TensorFlow), network reachability,
  Keras' cache folder, the distributed Keras Tuner role.

Nothing here imports from the rest of the package.
"""
