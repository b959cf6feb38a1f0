"""What the edge's two web UIs (the TV app at /tv/, the staff page at /staff/) share: how they speak two languages.

The error middleware that turns refusals into JSON or a readable page is `edge/errors.py`.
"""
