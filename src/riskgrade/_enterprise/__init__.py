"""_enterprise"""
