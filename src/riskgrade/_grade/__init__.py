"""_grade"""
