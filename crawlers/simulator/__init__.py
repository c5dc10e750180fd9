"""Offline goszakup OWS v3 simulator: scenario generator (`scenario`), indexed tables (`tables`), HTTP server
(`server`) and the invented vocabulary the scenarios are built from (`vocab`)."""
