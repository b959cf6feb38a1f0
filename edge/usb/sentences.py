"""What a refusal means to a technician or village staff, in Chinese first, with what to do next.

The machine codes are the ones in receipts and the status; the English detail stays beside for the city's support.
"""

from __future__ import annotations

_ZH = {
    "bad_signature": "开通文件或内容包被改动过（签名不对）。请回城市平台重新制作，再拷到U盘。",
    "malformed": "U盘上的文件已损坏或格式不对。请回城市平台重新制作，再拷到U盘。",
    "too_large": "U盘上的文件大得不正常，已拒绝。请重新制作该文件。",
    "expired": "开通文件已过期。请城市平台重新制作一份新的。",
    "unknown_key": "这份文件不是本机信任的城市平台签发的。请使用本市平台制作的文件。",
    "wrong_village": "这份文件是给另一个村的。如确需迁移本机，请平台制作带“迁移”标记的开通文件。",
    "unsent_before_move": "本机还有居民事项没有送到城市平台，暂时不能换村。请先同步（联网或用同步U盘），再插入换村的开通文件。",
    "wrong_sequence": "文件比本机已有的内容旧或不衔接。请按回执中的说明重新导出。",
    "broken_chain": "内容包的数据被改动过，已拒绝。请重新导出内容包。",
    "symlink": "U盘上有链接文件，已整盘拒绝。请格式化U盘后只拷入平台制作的文件。",
    "unsafe_path": "U盘上有不允许的文件名（例如“..”）。请格式化U盘后只拷入平台制作的文件。",
    "too_many_files": "U盘上的文件太多。请只拷入平台制作的文件。",
    "too_deep": "U盘上的文件夹层数太多。请只拷入平台制作的文件。",
    "unsupported_fs": "本机读不了这种U盘格式。请把U盘格式化为 FAT32 后重新拷入。",
    "unreadable": "U盘读不出来。请换一个U盘再试。",
    "fat_loop": "U盘的文件系统已损坏（文件夹的簇链首尾相接，永远读不完），本机拒绝读取。请在电脑上检查修复U盘，"
                "或格式化为 FAT32 后重新拷入平台制作的文件。",
    "fat_damaged": "U盘的文件系统已损坏，本机拒绝读取。请在电脑上检查修复U盘，或格式化为 FAT32 后重新拷入。",
    "parser_limit": "读取这个U盘所需的内存或时间远超正常U盘，本机已停止读取。请在电脑上检查U盘，"
                    "或格式化为 FAT32 后重新拷入。",
    "stick_pulled": "U盘在处理过程中被拔出。请重新插入，本机会从中断处继续。",
    "pack_incomplete": "内容包不完整。请重新导出内容包。",
    "pack_damaged": "内容包中的文件已损坏。请重新导出内容包。",
    "not_provisioned": "本机还没有开通。请把开通文件和内容包一起拷到U盘上。",
    "no_hub_key": "本机没有平台的诊断密钥。请先用新的开通文件重新开通。",
    "read_only": "U盘是只读的，回执保存在本机上。",
    "no_helper": "本机的U盘读取服务没有运行，读不了U盘。请重启本机；如再次发生请联系城市平台技术支持。",
    "internal_error": "本机处理U盘时出错。请拔出U盘，如再次发生请联系城市平台技术支持。",
}


def in_chinese(code: str | None) -> str | None:
    if code is None:
        return None
    return _ZH.get(code, "U盘上的内容未被接受。请查看回执中的原因，或联系城市平台技术支持。")
