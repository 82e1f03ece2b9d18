"""_monitor"""
