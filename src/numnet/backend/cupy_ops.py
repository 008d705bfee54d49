"""placeholder"""
def register():
    return False
