"""_validate"""
