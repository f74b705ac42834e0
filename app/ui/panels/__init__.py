"""The window's panels; each takes the ``UiContext`` and subscribes to the bridge."""
