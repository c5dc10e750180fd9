"""Page scripts: Streamlit runs each file inside the frame of `dashboard/app.py`. Not for import (a page renders
when its module runs); this file only makes the folder part of the installed package."""
