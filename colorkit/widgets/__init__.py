"""ipywidgets UIs for the notebooks: ab-plane explorer, scribbles, temperature, render factor, Turing test."""
